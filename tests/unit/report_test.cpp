// report.html from a fixture run directory written here: the SVG elements of every section
// (curves, one point per class, shot-group bands, heat-map cells, reliability bars), escaping,
// the absence of anything external; and the predictions file's layout and checks.
#include "eval/predictions.hpp"
#include "report/run_report.hpp"
#include "report/svg.hpp"
#include "report/tensorboard/event_file.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace tailor::host;
using Catch::Matchers::Contains;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("tailor-report-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

void write(const fs::path& file, const std::string& text) {
  std::ofstream(file) << text;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size()))
    ++n;
  return n;
}

// The part of `html` from the <h2> containing `title` up to the next <h2>.
std::string section(const std::string& html, const std::string& title) {
  const size_t a = html.find("<h2>" + title);
  if (a == std::string::npos) return {};
  const size_t b = html.find("<h2>", a + 4);
  return html.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

// A finished run of `classes` classes: 2 stages x 2 epochs, every file tailor writes.
SampleOutcomes fixture_run(const fs::path& dir, int classes, bool vectors = true) {
  const int epochs = 4;
  std::ostringstream metrics, cv;
  for (int e = 1; e <= epochs; ++e) {
    const std::string stage = e <= 2 ? "features" : "crt";
    nlohmann::json train = {{"epoch", e},      {"stage", stage}, {"split", "train"},
                            {"loss", 2.0 / e}, {"lr", 0.1 / e},  {"samples", 100}};
    metrics << train.dump() << "\n";
    for (const char* split : {"val", "test"}) {
      nlohmann::json r = {{"epoch", e},
                          {"stage", stage},
                          {"split", split},
                          {"top1", 0.5 + 0.05 * e},
                          {"mean_class_recall", 0.45 + 0.05 * e},
                          {"loss", 1.5 / e},
                          {"ece", 0.1},
                          {"top5", 0.9}};
      for (const char* g : {"many", "medium", "few"})
        r[g] = {{"classes", 2}, {"samples", 10}, {"accuracy", 0.4 + 0.1 * e}, {"ece", 0.05}};
      metrics << r.dump() << "\n";
    }
    if (vectors) {
      std::vector<double> w;
      for (int c = 0; c < classes; ++c) w.push_back(1.0 + 0.1 * c * e);
      cv << nlohmann::json({{"epoch", e}, {"stage", stage}, {"vectors", {{"weights", w}}}}).dump()
         << "\n";
    }
  }
  write(dir / "metrics.jsonl", metrics.str());
  if (vectors) write(dir / "class_vectors.jsonl", cv.str());
  nlohmann::json summary = {
      {"experiment", "fixture_run"},
      {"seed", 3},
      {"epochs", epochs},
      {"seconds", 1.5},
      {"device", "cpu"},
      {"evaluation", {{"many_threshold", 100}, {"few_threshold", 20}, {"ece_bins", 10}}},
      {"last_epoch", {{"test", {{"top1", 0.7}, {"mean_class_recall", 0.65}, {"ece", 0.1}}}}},
      {"best_on_val", {{"epoch", 3}, {"test", {{"top1", 0.68}, {"mean_class_recall", 0.66}}}}}};
  write(dir / "summary.json", summary.dump(2));
  std::ostringstream pc;
  pc << "class,name,train_count,shot,test_support,last_recall,last_precision,best_val_recall,"
        "best_val_precision\n";
  for (int c = 0; c < classes; ++c) {
    const int n = static_cast<int>(500 * std::pow(0.6, c)) + 1;
    const char* shot = n > 100 ? "many" : n < 20 ? "few" : "medium";
    pc << c << "," << (c == 1 ? "<b>&amp" : "class " + std::to_string(c)) << "," << n << "," << shot
       << ",10," << 0.9 - 0.05 * c << ",0.5," << 0.85 - 0.04 * c << ",0.5\n";
  }
  write(dir / "per_class.csv", pc.str());
  // Predictions: sample i of class i % C, predicted correctly two times in three.
  SampleOutcomes s;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::ostringstream confusion;
  std::vector<std::vector<int64_t>> m(classes, std::vector<int64_t>(classes, 0));
  for (int i = 0; i < 10 * classes; ++i) {
    const int y = i % classes;
    const int p = i % 3 == 0 ? (y + 1) % classes : y;
    s.label.push_back(y);
    s.predicted.push_back(p);
    s.max_prob.push_back(0.3f + 0.7f * u(rng));
    s.true_prob.push_back(p == y ? s.max_prob.back() : 0.1f);
    ++m[y][p];
  }
  for (const auto& row : m) {
    for (int j = 0; j < classes; ++j) confusion << (j ? "," : "") << row[j];
    confusion << "\n";
  }
  write(dir / "confusion_test_last.csv", confusion.str());
  write_predictions(dir / "predictions_test_last.bin", s, classes, epochs);
  write(dir / "config.resolved.toml", "[experiment]\nname = \"fixture_run\"\n");
  return s;
}

}  // namespace

TEST_CASE("report.html draws every section from a run directory", "[report]") {
  TempDir tmp;
  const int classes = 12;
  const SampleOutcomes samples = fixture_run(tmp.path, classes);
  const fs::path file = write_run_report(tmp.path);
  std::ifstream in(file);
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  // Self-contained: no script, no link, no URL of any kind.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("http") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  // Class names are escaped, never markup.
  CHECK(html.find("<b>&amp") == std::string::npos);
  CHECK_THAT(html, Contains("&lt;b&gt;&amp;amp"));

  const std::string curves = section(html, "Training and validation curves");
  // loss: train, val, test; lr; top-1: val, test; mean class recall: val, test;
  // many/medium/few: test and val of each.
  CHECK(count(curves, "class=\"curve\"") == 3 + 1 + 2 + 2 + 6);
  CHECK(count(curves, "<svg class=\"chart\"") == 5);
  CHECK(count(curves, ">crt</text>") == 5);          // the stage boundary, in every chart
  CHECK(count(curves, ">best on val</text>") == 5);  // the selected epoch

  const std::string per_class = section(html, "Per-class recall against train count");
  CHECK(count(per_class, ": last epoch ") == classes);  // one filled point per class
  CHECK(count(per_class, ": best-on-val ") == classes);
  CHECK(count(per_class, "class=\"band\"") == 3);
  CHECK(count(per_class, "class=\"point\"") == 2 * classes);

  const std::string reliability = section(html, "Reliability");
  CHECK(count(reliability, "<svg class=\"chart\"") == 4);  // all, many, medium, few
  // One bar per non-empty confidence bin (10 bins), per chart.
  size_t bars = 0;
  {
    std::ifstream pc(tmp.path / "per_class.csv");
    std::string line;
    std::getline(pc, line);
    std::vector<int> group;
    while (std::getline(pc, line)) {
      const std::string shot = line.substr(0, line.find(",10,"));
      group.push_back(shot.find(",many") != std::string::npos     ? 0
                      : shot.find(",medium") != std::string::npos ? 1
                                                                  : 2);
    }
    for (int g = -1; g < 3; ++g) {
      std::vector<int> used(10, 0);
      for (size_t i = 0; i < samples.size(); ++i) {
        if (g >= 0 && group[samples.label[i]] != g) continue;
        const int b =
            std::clamp(static_cast<int>(std::ceil(samples.max_prob[i] * 10.0f)) - 1, 0, 9);
        used[b] = 1;
      }
      for (int u : used) bars += u;
    }
  }
  CHECK(count(reliability, "class=\"bar\"") == bars);

  const std::string confusions = section(html, "Confusions");
  CHECK(count(confusions, "class=\"cell\"") == classes * classes);
  CHECK_THAT(
      confusions,
      Contains("<td class=\"l\">class 0</td><td class=\"l\">&lt;b&gt;&amp;amp</td><td>10</td>"));

  const std::string vectors = section(html, "The loss");
  CHECK(count(vectors, "class=\"curve\"") == classes);  // one line per class over epochs
  CHECK_THAT(vectors, Contains("weights"));
}

TEST_CASE("report.html scales to many classes", "[report]") {
  TempDir tmp;
  const int classes = 120;
  fixture_run(tmp.path, classes);
  const std::string html = render_run_report(tmp.path);
  const std::string confusions = section(html, "Confusions");
  CHECK(count(confusions, "class=\"cell\"") == 0);  // no heat map above 100 classes
  CHECK_THAT(confusions, Contains("120 classes: the heat map is drawn for 100 classes or fewer"));
  CHECK(count(section(html, "Per-class recall"), ": last epoch ") == classes);
  // The vectors of 120 classes over 4 epochs: a heat map, not 120 lines.
  const std::string vectors = section(html, "The loss");
  CHECK(count(vectors, "class=\"curve\"") == 0);
  CHECK(count(vectors, "class=\"cell\"") == classes * 4);
}

TEST_CASE("report.html of a run still training, and of no run", "[report]") {
  TempDir tmp;
  fixture_run(tmp.path, 5, /*vectors=*/false);
  for (const char* f :
       {"summary.json", "per_class.csv", "confusion_test_last.csv", "predictions_test_last.bin"})
    fs::remove(tmp.path / f);
  // A line cut short by a crash is skipped.
  std::ofstream(tmp.path / "metrics.jsonl", std::ios::app) << "{\"epoch\": 5, \"spl";
  const std::string html = render_run_report(tmp.path);
  CHECK_THAT(html, Contains("the run has not finished"));
  CHECK_THAT(html, Contains("per_class.csv appears when the run finishes"));
  CHECK_THAT(html, Contains("reports no per-class vectors"));
  CHECK(count(section(html, "Training and validation curves"), "<svg class=\"chart\"") == 5);

  TempDir empty;
  CHECK_THROWS_WITH(render_run_report(empty.path), Contains("no metrics.jsonl"));
  CHECK_THROWS_WITH(render_run_report(empty.path / "missing"), Contains("is not a directory"));
  std::ofstream(empty.path / "metrics.jsonl") << "{\"epoch\": 1}\nnot json\n{\"epoch\": 2}\n";
  CHECK_THROWS_WITH(render_run_report(empty.path),
                    Contains("metrics.jsonl:2 is not a JSON object"));
}

TEST_CASE("log axes and ticks", "[report]") {
  svg::Scale s{1, 1000, 0, 300, true};
  CHECK(s(1) == Approx(0));
  CHECK(s(10) == Approx(100));
  CHECK(s(1000) == Approx(300));
  CHECK(s.ticks() == std::vector<double>{1, 10, 100, 1000});
  svg::Scale lin{0, 1, 0, 100, false};
  const auto ticks = lin.ticks(5);
  REQUIRE(ticks.size() == 6);
  for (size_t i = 0; i < ticks.size(); ++i) CHECK(ticks[i] == Approx(0.2 * static_cast<double>(i)));
  const auto wide = svg::Scale{3, 1700, 0, 100, true}.ticks();
  CHECK(wide == std::vector<double>{10, 100, 1000});
  CHECK(svg::escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
}

TEST_CASE("predictions files round-trip and refuse damage", "[report][predictions]") {
  TempDir tmp;
  SampleOutcomes s;
  s.label = {0, 2, 1};
  s.predicted = {0, 1, 1};
  s.max_prob = {0.9f, 0.5f, 0.75f};
  s.true_prob = {0.9f, 0.25f, 0.75f};
  const fs::path file = tmp.path / "p.bin";
  write_predictions(file, s, 3, 7);
  CHECK(fs::file_size(file) == 32 + 16 * 3);
  const Predictions p = read_predictions(file);
  CHECK(p.classes == 3);
  CHECK(p.epoch == 7);
  CHECK(p.samples.label == s.label);
  CHECK(p.samples.predicted == s.predicted);
  CHECK(p.samples.max_prob == s.max_prob);
  CHECK(p.samples.true_prob == s.true_prob);
  // The documented layout, byte for byte.
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(bytes.substr(0, 4) == "TLPR");
  int32_t second_predicted = 0;
  float second_true = 0;
  std::memcpy(&second_predicted, bytes.data() + 32 + 16 + 4, 4);
  std::memcpy(&second_true, bytes.data() + 32 + 16 + 12, 4);
  CHECK(second_predicted == 1);
  CHECK(second_true == 0.25f);

  auto damaged = [&](const std::string& content) {
    std::ofstream(tmp.path / "bad.bin", std::ios::binary) << content;
    return tmp.path / "bad.bin";
  };
  CHECK_THROWS_WITH(read_predictions(tmp.path / "none.bin"),
                    Contains("cannot read predictions file"));
  CHECK_THROWS_WITH(read_predictions(damaged("hello")), Contains("not a tailor predictions file"));
  CHECK_THROWS_WITH(read_predictions(damaged(bytes.substr(0, bytes.size() - 5))),
                    Contains("truncated or damaged"));
  std::string wrong_class = bytes;
  const int32_t nine = 9;
  std::memcpy(wrong_class.data() + 32, &nine, 4);
  CHECK_THROWS_WITH(read_predictions(damaged(wrong_class)), Contains("sample 0 is out of range"));
  std::string future = bytes;
  const uint32_t two = 2;
  std::memcpy(future.data() + 4, &two, 4);
  CHECK_THROWS_WITH(read_predictions(damaged(future)), Contains("format version 2"));
}

TEST_CASE("TensorBoard records carry masked CRC-32C checksums", "[report][tensorboard]") {
  // CRC-32C("123456789") = 0xE3069283 (the check value of the Castagnoli CRC).
  const uint32_t crc = 0xE3069283u;
  CHECK(tensorboard::masked_crc32c("123456789", 9) == ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
  const auto scalars =
      tensorboard::record_scalars({{"epoch", 2},
                                   {"split", "val"},
                                   {"top1", 0.5},
                                   {"many", {{"classes", 1}, {"accuracy", 0.25}, {"ece", 0.1}}},
                                   {"few", {{"classes", 0}, {"accuracy", 0.0}, {"ece", 0.0}}}});
  CHECK(scalars == std::vector<std::pair<std::string, double>>{
                       {"val/top1", 0.5}, {"val/many", 0.25}, {"val/many_ece", 0.1}});
}
