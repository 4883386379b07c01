// Tests of the shared image library: JPEG decoding, Pillow-exact operations, the transform
// pipeline, list parsing and file digests.
#include "common/digest.hpp"
#include "common/jpeg.hpp"
#include "common/long_tail.hpp"
#include "common/ops.hpp"
#include "common/pipeline.hpp"
#include "common/samples.hpp"

#include <jpeglib.h>
#include <catch2/catch.hpp>

#include <tailor/error.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

using tailor::image::Image;
using tailor::image::Rect;

namespace {

constexpr int kWidth = 40;
constexpr int kHeight = 30;

// The synthetic image of pil_goldens.py.
Image textured(int w = kWidth, int h = kHeight) {
  Image img;
  img.resize(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.row(y)[x * 3 + c] =
            static_cast<uint8_t>((x * 7 + y * 13 + c * 50 + (x * y) % 17) % 256);
  return img;
}

Image solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  Image img;
  img.resize(w, h);
  for (size_t i = 0; i < img.pixels.size(); i += 3) {
    img.pixels[i] = r;
    img.pixels[i + 1] = g;
    img.pixels[i + 2] = b;
  }
  return img;
}

uint64_t fnv1a(const Image& img) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (uint8_t b : img.pixels) {
    h ^= b;
    h *= 0x100000001B3ull;
  }
  return h;
}

// Resize of the whole of `in` to out_w x out_h, as Image.resize((out_w, out_h), BILINEAR).
Image resized(const Image& in, int out_w, int out_h) {
  tailor::image::ResampleAxis ax{0, in.width, 0.0, double(in.width) / out_w, 0, out_w};
  tailor::image::ResampleAxis ay{0, in.height, 0.0, double(in.height) / out_h, 0, out_h};
  Image out, temp;
  tailor::image::resample(in, 0, 0, tailor::image::bilinear_taps(ax),
                          tailor::image::bilinear_taps(ay), &out, &temp);
  return out;
}

// A CMYK JPEG with an Adobe marker (values stored as given), for the colour conversion.
std::vector<uint8_t> encode_cmyk(int w, int h, const uint8_t cmyk[4]) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buffer, &size);
  c.image_width = w;
  c.image_height = h;
  c.input_components = 4;
  c.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 100, TRUE);
  jpeg_start_compress(&c, TRUE);
  std::vector<uint8_t> row(static_cast<size_t>(w) * 4);
  for (int x = 0; x < w; ++x) std::memcpy(&row[x * 4], cmyk, 4);
  while (c.next_scanline < c.image_height) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);
  return bytes;
}

// A greyscale or progressive RGB JPEG of `img` (the library's encoder writes baseline RGB).
std::vector<uint8_t> encode_special(const Image& img, bool grey, bool progressive) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buffer, &size);
  c.image_width = img.width;
  c.image_height = img.height;
  c.input_components = grey ? 1 : 3;
  c.in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 90, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  std::vector<uint8_t> row(static_cast<size_t>(img.width) * 3);
  while (c.next_scanline < c.image_height) {
    const uint8_t* src = img.row(static_cast<int>(c.next_scanline));
    if (grey)
      for (int x = 0; x < img.width; ++x) row[x] = src[x * 3];
    else
      std::memcpy(row.data(), src, row.size());
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);
  return bytes;
}

}  // namespace

TEST_CASE("resampling and colour operations match Pillow byte for byte", "[image_common]") {
  using namespace tailor::image;
  // Digests printed by pil_goldens.py (Pillow 9.4, torchvision 0.14).
  const std::map<std::string, uint64_t> golden = {
      {"resize_17x13", 0x4FE1F87CD1B51E38ull},
      {"resize_up_53x61", 0xDEBDC6412987DBACull},
      {"resized_crop_5_3_25x20_to_16", 0x0C0DDFDB87310D16ull},
      {"eval_resize20_crop16", 0xE6EA1207F688597Bull},
      {"brightness_1.3", 0x56AE3A027F609079ull},
      {"brightness_0.6", 0x6AE66173605573B8ull},
      {"contrast_0.7", 0xD70D147065E3A67Full},
      {"contrast_1.4", 0x506ECA287400E7ADull},
      {"saturation_0.5", 0x3AECD548DFBF50C4ull},
      {"saturation_1.35", 0x47474DAD31F19D9Cull},
      {"flip", 0xF54BB451505CE0EEull},
      {"posterize_5", 0xBC57B51A5DC9DA25ull},
      {"solarize_128", 0xA1BF80C52D828F0Aull},
      {"autocontrast", 0xC000E89012B183E8ull},
      {"equalize", 0xB8CCB596988B8573ull},
      {"shear_x_0.2", 0x26BF38C8B4B02C77ull},
      {"shear_y_-0.25", 0xD67BAD730B9974E3ull},
      {"translate_x_7", 0x9757A7143E308644ull},
      {"translate_y_-5", 0x9F45274FDDDAC07Dull},
      {"rotate_20", 0xC793468B25029FE4ull},
      {"sharpness_1.8", 0xCB368223BC952B9Dull},
  };
  const Image src = textured();
  std::map<std::string, Image> got;
  got["resize_17x13"] = resized(src, 17, 13);
  got["resize_up_53x61"] = resized(src, 53, 61);
  {
    // F.resized_crop(img, top=3, left=5, h=20, w=25, 16): the filter stays inside the crop.
    const Taps tx = bilinear_taps({5, 30, 0.0, 25.0 / 16, 0, 16});
    const Taps ty = bilinear_taps({3, 23, 0.0, 20.0 / 16, 0, 16});
    Image temp;
    resample(src, 0, 0, tx, ty, &got["resized_crop_5_3_25x20_to_16"], &temp);
  }
  {
    const EvalGeometry g = eval_geometry(kWidth, kHeight, 20, 16);
    CHECK(g.resized_width == 26);
    CHECK(g.resized_height == 20);
    const Taps tx =
        bilinear_taps({0, kWidth, 0.0, double(kWidth) / g.resized_width, g.crop_left, 16});
    const Taps ty =
        bilinear_taps({0, kHeight, 0.0, double(kHeight) / g.resized_height, g.crop_top, 16});
    Image temp;
    resample(src, 0, 0, tx, ty, &got["eval_resize20_crop16"], &temp);
  }
  auto op = [&](const char* name, auto&& fn) {
    Image img = src;
    fn(&img);
    got[name] = img;
  };
  Image temp;
  op("brightness_1.3", [](Image* i) { adjust_brightness(i, 1.3); });
  op("brightness_0.6", [](Image* i) { adjust_brightness(i, 0.6); });
  op("contrast_0.7", [](Image* i) { adjust_contrast(i, 0.7); });
  op("contrast_1.4", [](Image* i) { adjust_contrast(i, 1.4); });
  op("saturation_0.5", [](Image* i) { adjust_saturation(i, 0.5); });
  op("saturation_1.35", [](Image* i) { adjust_saturation(i, 1.35); });
  op("flip", [](Image* i) { flip_horizontal(i); });
  op("posterize_5", [](Image* i) { posterize(i, 5); });
  op("solarize_128", [](Image* i) { solarize(i, 128.0); });
  op("autocontrast", [](Image* i) { autocontrast(i); });
  op("equalize", [](Image* i) { equalize(i); });
  op("sharpness_1.8", [&](Image* i) { adjust_sharpness(i, 1.8, &temp); });
  auto affine = [&](const char* name, double cx, double cy, double tx, double ty, double sx,
                    double sy) {
    double m[6];
    inverse_affine_matrix(cx, cy, 0.0, tx, ty, 1.0, sx, sy, m);
    affine_nearest(src, m, &got[name]);
  };
  constexpr double kDeg = 180.0 / 3.14159265358979323846;
  affine("shear_x_0.2", 0, 0, 0, 0, std::atan(0.2) * kDeg, 0);
  affine("shear_y_-0.25", 0, 0, 0, 0, 0, std::atan(-0.25) * kDeg);
  affine("translate_x_7", kWidth * 0.5, kHeight * 0.5, 7, 0, 0, 0);
  affine("translate_y_-5", kWidth * 0.5, kHeight * 0.5, 0, -5, 0, 0);
  {
    // Image.rotate(20): counter-clockwise about the centre.
    const double a = -20.0 / kDeg, c = std::cos(a), s = std::sin(a);
    const double cx = kWidth / 2.0, cy = kHeight / 2.0;
    const double m[6] = {c, s, c * -cx + s * -cy + cx, -s, c, -s * -cx + c * -cy + cy};
    affine_nearest(src, m, &got["rotate_20"]);
  }
  for (const auto& [name, digest] : golden) {
    INFO(name);
    REQUIRE(got.count(name) == 1);
    CHECK(fnv1a(got[name]) == digest);
  }
}

TEST_CASE("JPEG decode: pixels, regions, scaling, CMYK", "[image_common]") {
  using namespace tailor::image;
  JpegDecoder dec;
  Image out;

  // Grey survives JPEG exactly (no chroma, flat blocks).
  const std::vector<uint8_t> grey = encode_jpeg(solid(40, 30, 128, 128, 128), 95);
  REQUIRE(dec.open(grey.data(), grey.size()));
  CHECK(dec.width() == 40);
  CHECK(dec.height() == 30);
  REQUIRE(dec.decode(&out));
  CHECK(out.width == 40);
  CHECK(out.height == 30);
  for (uint8_t v : out.pixels) CHECK(v == 128);

  // A region decode (skipped rows, cropped columns) equals the same part of a full decode.
  const std::vector<uint8_t> tex = encode_jpeg(textured(96, 72), 90, /*subsample=*/true);
  Image full, part;
  REQUIRE(dec.open(tex.data(), tex.size()));
  REQUIRE(dec.decode(&full));
  for (const Rect want : {Rect{37, 21, 20, 15}, Rect{0, 40, 96, 5}, Rect{70, 0, 26, 72},
                          Rect{32, 8, 17, 30}, Rect{17, 3, 48, 60}}) {
    INFO("region " << want.x << "," << want.y << " " << want.width << "x" << want.height);
    Rect got;
    REQUIRE(dec.open(tex.data(), tex.size()));
    REQUIRE(dec.decode(8, want, &part, &got));
    CHECK(got.x <= want.x);
    CHECK(got.x + got.width >= want.x + want.width);
    CHECK(got.y == want.y);
    CHECK(got.height == want.height);
    for (int y = 0; y < want.height; ++y)
      CHECK(std::memcmp(part.row(y) + (want.x - got.x) * 3, full.row(want.y + y) + want.x * 3,
                        static_cast<size_t>(want.width) * 3) == 0);
  }

  // DCT scaling: 2/8 of 96 x 72 is 24 x 18.
  Rect got;
  REQUIRE(dec.open(tex.data(), tex.size()));
  REQUIRE(dec.decode(2, Rect{0, 0, 24, 18}, &part, &got));
  CHECK(part.width == 24);
  CHECK(part.height == 18);
  CHECK(scaled_size(375, 3) == 141);

  // Adobe CMYK is stored inverted: stored (255, 0, 255, 255) is magenta, as Pillow reads it.
  const uint8_t magenta[4] = {255, 0, 255, 255};
  const std::vector<uint8_t> cmyk = encode_cmyk(16, 16, magenta);
  REQUIRE(dec.open(cmyk.data(), cmyk.size()));
  REQUIRE(dec.decode(&out));
  for (size_t i = 0; i < out.pixels.size(); i += 3) {
    CHECK(out.pixels[i] >= 252);
    CHECK(out.pixels[i + 1] <= 3);
    CHECK(out.pixels[i + 2] >= 252);
  }

  // Greyscale JPEGs come out as RGB with equal channels.
  const std::vector<uint8_t> grey8 = encode_special(solid(24, 16, 77, 77, 77), true, false);
  REQUIRE(dec.open(grey8.data(), grey8.size()));
  REQUIRE(dec.decode(&out));
  REQUIRE(out.pixels.size() == 24u * 16u * 3u);
  for (uint8_t v : out.pixels) CHECK(v == 77);

  // Progressive JPEGs: region decodes still equal a full decode.
  const std::vector<uint8_t> prog = encode_special(textured(96, 72), false, true);
  REQUIRE(dec.open(prog.data(), prog.size()));
  REQUIRE(dec.decode(&full));
  const Rect want{29, 17, 40, 33};
  REQUIRE(dec.open(prog.data(), prog.size()));
  REQUIRE(dec.decode(8, want, &part, &got));
  for (int y = 0; y < want.height; ++y)
    CHECK(std::memcmp(part.row(y) + (want.x - got.x) * 3, full.row(want.y + y) + want.x * 3,
                      static_cast<size_t>(want.width) * 3) == 0);

  // Round trip of a coloured image: lossy but close.
  const std::vector<uint8_t> red = encode_jpeg(solid(40, 30, 200, 30, 60), 100, false);
  REQUIRE(dec.open(red.data(), red.size()));
  REQUIRE(dec.decode(&out));
  CHECK(std::abs(out.pixels[0] - 200) <= 2);
  CHECK(std::abs(out.pixels[1] - 30) <= 2);
  CHECK(std::abs(out.pixels[2] - 60) <= 2);
}

TEST_CASE("JPEG decode errors are returned, never fatal", "[image_common]") {
  using namespace tailor::image;
  JpegDecoder dec;
  Image out;
  const std::vector<uint8_t> good = encode_jpeg(textured(), 90);

  SECTION("truncated file") {
    const std::vector<uint8_t> cut(good.begin(),
                                   good.begin() + static_cast<long>(good.size() * 3 / 4));
    const bool ok = dec.open(cut.data(), cut.size()) && dec.decode(&out);
    CHECK_FALSE(ok);
    CHECK_THAT(dec.error(), Catch::Contains("truncated"));
  }
  SECTION("text named .jpg") {
    const std::string text = "this is not an image\n";
    CHECK_FALSE(dec.open(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    CHECK_THAT(dec.error(), Catch::Contains("Not a JPEG file"));
  }
  SECTION("empty file") {
    CHECK_FALSE(dec.open(nullptr, 0));
    CHECK_FALSE(dec.error().empty());
  }
  SECTION("header only") {
    const bool ok = dec.open(good.data(), 200) && dec.decode(&out);
    CHECK_FALSE(ok);
    CHECK_FALSE(dec.error().empty());
  }
  SECTION("corrupted entropy data still decodes or fails cleanly") {
    std::vector<uint8_t> bad = good;
    for (size_t i = bad.size() / 2; i < bad.size() - 2; i += 7) bad[i] ^= 0x5A;
    if (dec.open(bad.data(), bad.size())) (void)dec.decode(&out);
    SUCCEED("no crash");
  }
  // The decoder is usable after an error.
  REQUIRE(dec.open(good.data(), good.size()));
  REQUIRE(dec.decode(&out));
  CHECK(out.width == kWidth);
}

TEST_CASE("RandomResizedCrop follows torchvision's get_params", "[image_common]") {
  using namespace tailor::image;
  std::set<std::pair<int, int>> sizes;
  for (uint64_t k = 0; k < 200; ++k) {
    SampleRng rng(7, k);
    const CropBox b = random_resized_crop_box(500, 375, rng);
    CHECK(b.width > 0);
    CHECK(b.height > 0);
    CHECK(b.left + b.width <= 500);
    CHECK(b.top + b.height <= 375);
    const double area = double(b.width) * b.height / (500.0 * 375.0);
    CHECK(area >= 0.07);
    CHECK(double(b.width) / b.height >= 0.74);
    CHECK(double(b.width) / b.height <= 1.34);
    sizes.insert({b.width, b.height});
  }
  CHECK(sizes.size() > 100);
  // 1000 x 10: no attempt fits; the fallback crops the centre at ratio 4/3.
  SampleRng rng(1, 0);
  const CropBox b = random_resized_crop_box(1000, 10, rng);
  CHECK(b.height == 10);
  CHECK(b.width == 13);
  CHECK(b.left == (1000 - 13) / 2);
  CHECK(b.top == 0);
}

TEST_CASE("pipeline: normalisation, determinism and decode scaling", "[image_common]") {
  using namespace tailor::image;
  TransformOptions o;
  o.image_size = 16;
  o.resize = 20;
  ImagePipeline pipe(o);
  std::string error;
  std::vector<float> out(pipe.sample_floats());

  // A grey image normalises to (128/255 - mean) / std in float32, everywhere.
  const std::vector<uint8_t> grey = encode_jpeg(solid(40, 30, 128, 128, 128), 95);
  SampleRng rng(3, 0);
  REQUIRE(pipe.process(grey.data(), grey.size(), false, rng, out.data(), &error));
  const float want[3] = {(128.0f / 255.0f - 0.485f) / 0.229f, (128.0f / 255.0f - 0.456f) / 0.224f,
                         (128.0f / 255.0f - 0.406f) / 0.225f};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 256; ++i) CHECK(out[static_cast<size_t>(c * 256 + i)] == want[c]);
  CHECK(want[0] == Approx(0.0741).epsilon(1e-3));

  // Augmented output is a function of (seed, position) only.
  const std::vector<uint8_t> tex = encode_jpeg(textured(200, 150), 90);
  std::vector<float> a(out.size()), b(out.size()), c(out.size());
  SampleRng r1(42, 5), r2(42, 5), r3(42, 6);
  REQUIRE(pipe.process(tex.data(), tex.size(), true, r1, a.data(), &error));
  REQUIRE(pipe.process(tex.data(), tex.size(), true, r2, b.data(), &error));
  REQUIRE(pipe.process(tex.data(), tex.size(), true, r3, c.data(), &error));
  CHECK(a == b);
  CHECK(a != c);

  // RandAugment and no-jitter variants run and stay deterministic.
  TransformOptions ra = o;
  ra.augment = Augment::kRandAugment;
  ra.randaugment_n = 3;
  ra.randaugment_m = 15;
  ImagePipeline pipe_ra(ra);
  for (uint64_t k = 0; k < 20; ++k) {
    SampleRng x(9, k), y(9, k);
    REQUIRE(pipe_ra.process(tex.data(), tex.size(), true, x, a.data(), &error));
    REQUIRE(pipe_ra.process(tex.data(), tex.size(), true, y, b.data(), &error));
    CHECK(a == b);
  }

  // A solid image stays solid whatever the decode scale and crop.
  const std::vector<uint8_t> big = encode_jpeg(solid(400, 300, 128, 128, 128), 95);
  TransformOptions no_jitter = o;
  no_jitter.color_jitter = 0.0;
  for (bool scaling : {true, false}) {
    no_jitter.decode_scaling = scaling;
    ImagePipeline p(no_jitter);
    for (bool train : {true, false}) {
      SampleRng r(1, 2);
      REQUIRE(p.process(big.data(), big.size(), train, r, out.data(), &error));
      CHECK(out[0] == want[0]);
      CHECK(out[out.size() - 1] == want[2]);
    }
  }

  // Errors come back as false with a message, and nothing is thrown.
  const std::string text = "hello";
  SampleRng r(0, 0);
  CHECK_FALSE(pipe.process(reinterpret_cast<const uint8_t*>(text.data()), text.size(), true, r,
                           out.data(), &error));
  CHECK_THAT(error, Catch::Contains("Not a JPEG"));
}

TEST_CASE("list parsing: layouts, spaces, blank lines, errors", "[image_common]") {
  using tailor::image::parse_list;
  const std::string content =
      "train/n01440764/n01440764_10026.JPEG 0\n"
      "\n"
      "/a/abbey/00000000.jpg 1\r\n"
      "  my photos/holiday 2019/beach.jpg\t2  \n"
      "val/ILSVRC2012_val_00000001.JPEG 65";  // no final newline
  const auto t = parse_list(content, "list.txt", "test: ");
  REQUIRE(t.size() == 4);
  CHECK(t.path(0) == "train/n01440764/n01440764_10026.JPEG");
  CHECK(t.path(1) == "/a/abbey/00000000.jpg");
  CHECK(t.path(2) == "my photos/holiday 2019/beach.jpg");
  CHECK(t.path(3) == "val/ILSVRC2012_val_00000001.JPEG");
  CHECK(t.labels == std::vector<int64_t>{0, 1, 2, 65});
  CHECK(t.origins == std::vector<uint32_t>{1, 3, 4, 5});
  CHECK(t.where(2) == "list.txt line 4");
  CHECK(t.class_counts(3) == std::vector<int64_t>{1, 1, 1});

  CHECK_THROWS_WITH(parse_list("a.jpg 0\nb.jpg\n", "x.txt", "p: "),
                    Catch::StartsWith("p: x.txt:2:") && Catch::Contains("\"b.jpg\""));
  CHECK_THROWS_WITH(parse_list("a.jpg 0\n\nb.jpg 1x\n", "x.txt", ""),
                    Catch::StartsWith("x.txt:3:") && Catch::Contains("\"1x\""));
  CHECK_THROWS_WITH(parse_list("open/x.jpg -1\n", "x.txt", ""),
                    Catch::Contains("x.txt:1:") && Catch::Contains("open-set"));
  CHECK_THROWS_AS(parse_list("a.jpg 99999999999\n", "x.txt", ""), tailor::Error);
}

TEST_CASE("list parsing handles an ImageNet-LT-sized list", "[image_common]") {
  std::string content;
  for (int i = 0; i < 115846; ++i)
    content += "train/n0" + std::to_string(1440764 + i % 1000) + "/n0" +
               std::to_string(1440764 + i % 1000) + "_" + std::to_string(i) + ".JPEG " +
               std::to_string(i % 1000) + "\n";
  const auto t = tailor::image::parse_list(content, "big.txt", "");
  CHECK(t.size() == 115846);
  CHECK(t.labels.back() == 115845 % 1000);
}

TEST_CASE("digests: SHA-256 and git blob ids", "[image_common]") {
  // Known values: `printf abc | sha256sum` and `printf 'hello\n' | git hash-object --stdin`.
  CHECK(tailor::image::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(tailor::image::git_blob_hex("hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a");
  CHECK(tailor::image::git_blob_hex("") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

TEST_CASE("long_tail_counts follows the LDAM-DRW profiles", "[long_tail]") {
  using tailor::image::long_tail_counts;
  using tailor::image::LongTailProfile;
  CHECK(long_tail_counts(LongTailProfile::kExp, 6000, 100.0, 10) ==
        std::vector<int64_t>{6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60});
  CHECK(long_tail_counts(LongTailProfile::kExp, 18, 10.0, 10) ==
        std::vector<int64_t>{18, 13, 10, 8, 6, 5, 3, 3, 2, 1});  // 18 (1/10)^(i/9), truncated
  // img_max = len / C is a float in LDAM-DRW: the counts truncate img_max * factor.
  CHECK(long_tail_counts(LongTailProfile::kExp, 499.5, 1.0, 3) ==
        std::vector<int64_t>{499, 499, 499});
  CHECK(long_tail_counts(LongTailProfile::kStep, 100, 10.0, 10) ==
        std::vector<int64_t>{100, 100, 100, 100, 100, 10, 10, 10, 10, 10});
  CHECK(long_tail_counts(LongTailProfile::kStep, 100, 4.0, 5) ==
        std::vector<int64_t>{100, 100, 25, 25, 25});
  CHECK(long_tail_counts(LongTailProfile::kExp, 30, 100.0, 1) == std::vector<int64_t>{30});
  CHECK(long_tail_counts(LongTailProfile::kExp, 30, 100.0, 0).empty());
  CHECK_THROWS_AS(long_tail_counts(LongTailProfile::kExp, 30, 0.0, 3), tailor::Error);
}
