"""Inpainting models (PConv-UNet, DeepFill v2) and their layers and losses."""
