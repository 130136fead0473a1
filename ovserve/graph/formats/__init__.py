"""The packet types graph streams carry, below the calculators that make and use them.

As MediaPipe keeps `framework/formats/` below its calculators, these live in the engine so
that front ends, the data plane and calculators share them without importing one another:

* `embeddings`: `EmbeddingsRequest` / `EmbeddingsResult` and the OpenAI `input` validation;
* `rerank`: `RerankRequest` / `RerankResult` and the Cohere rerank body validation;
* `tokenize`: the `/v3/tokenize` request and result;
* `text_options`: per-request prompt and truncation options (`TextOptions`, `Cut`, `Prompts`);
* `tokens`: the right-padded `TokenBatch` between tokenizer and model, and its length rules;
* `arrays`: the int64 / float32 numpy array types;
* `json_text`: decoding JSON bodies to text without lone surrogates.
"""
