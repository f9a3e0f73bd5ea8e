"""Three prototypes of one process serving an asyncio app beside the trio lifecycle, each run as
``python -m bench.protos.<name> PORT [DRAIN_DELAY]`` by bench/loops.py."""
