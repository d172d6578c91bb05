"""Every way to make a mask. Pure numpy/OpenCV: masks are uint8 H x W, 255 = hole."""
