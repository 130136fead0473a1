"""Protocol front ends; the only layer that imports aiohttp or grpc."""
