#!/usr/bin/python3
"""Prints the Pillow/torchvision reference digests that test_image_common.cpp checks.

Every case transforms the same synthetic 40x30 RGB image with the torchvision functional
(PIL backend) and prints the FNV-1a 64 digest of the resulting bytes. Re-run with Debian's
python3-pil and python3-torchvision after changing a case: /usr/bin/python3 pil_goldens.py
"""
import math

from PIL import Image, ImageEnhance, ImageOps
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

W, H = 40, 30


def pixel(x, y, c):
    return (x * 7 + y * 13 + c * 50 + (x * y) % 17) % 256


def source():
    data = bytes(pixel(x, y, c) for y in range(H) for x in range(W) for c in range(3))
    return Image.frombytes("RGB", (W, H), data)


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def cases():
    img = source()
    bl = InterpolationMode.BILINEAR
    nearest = InterpolationMode.NEAREST
    yield "resize_17x13", img.resize((17, 13), Image.BILINEAR)
    yield "resize_up_53x61", img.resize((53, 61), Image.BILINEAR)
    yield "resized_crop_5_3_25x20_to_16", F.resized_crop(img, 3, 5, 20, 25, [16, 16], bl)
    yield "eval_resize20_crop16", F.center_crop(F.resize(img, 20, bl), 16)
    yield "brightness_1.3", F.adjust_brightness(img, 1.3)
    yield "brightness_0.6", F.adjust_brightness(img, 0.6)
    yield "contrast_0.7", F.adjust_contrast(img, 0.7)
    yield "contrast_1.4", F.adjust_contrast(img, 1.4)
    yield "saturation_0.5", F.adjust_saturation(img, 0.5)
    yield "saturation_1.35", F.adjust_saturation(img, 1.35)
    yield "flip", F.hflip(img)
    yield "posterize_5", F.posterize(img, 5)
    yield "solarize_128", F.solarize(img, 128.0)
    yield "autocontrast", F.autocontrast(img)
    yield "equalize", F.equalize(img)
    yield "shear_x_0.2", F.affine(img, 0.0, [0, 0], 1.0, [math.degrees(math.atan(0.2)), 0.0],
                                  nearest, None, center=[0, 0])
    yield "shear_y_-0.25", F.affine(img, 0.0, [0, 0], 1.0, [0.0, math.degrees(math.atan(-0.25))],
                                    nearest, None, center=[0, 0])
    yield "translate_x_7", F.affine(img, 0.0, [7, 0], 1.0, [0.0, 0.0], nearest, None)
    yield "translate_y_-5", F.affine(img, 0.0, [0, -5], 1.0, [0.0, 0.0], nearest, None)
    yield "rotate_20", F.rotate(img, 20.0, nearest)
    yield "sharpness_1.8", F.adjust_sharpness(img, 1.8)


for name, out in cases():
    print(f'{{"{name}", 0x{fnv1a(out.tobytes()):016X}ull}},')
