// The tour's verdicts (tools/tour/verdict.hpp): "same output as Python" only
// for an exact stdout match with the twin's expected output.
#include "verdict.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

// A scratch examples/ tree: python/NAME.py marks a twin, expected/NAME.out its output.
struct Tree {
  // One tree per test and process: ctest runs these tests side by side.
  fs::path dir = fs::path(testing::TempDir()) /
                 ("tour_verdict_examples_" + std::to_string(::getpid()) + "_" +
                  testing::UnitTest::GetInstance()->current_test_info()->name());
  Tree() {
    fs::remove_all(dir);
    fs::create_directories(dir / "python");
    fs::create_directories(dir / "expected");
    write("python/twin.py", "print('a')\n");
    write("expected/twin.out", "a\nb at HH:MM:SS\nc\n");
    write("python/fails.py", "raise SystemExit(1)\n");
    write("expected/fails.out", "x\n");
    write("expected/fails.status", "1\n");
    write("python/unchecked.py", "print(time.time())\n");
    write("expected/orphan.out", "a\n");  // expected output but no twin program
  }
  ~Tree() { fs::remove_all(dir); }
  void write(const std::string& rel, const std::string& text) { std::ofstream(dir / rel) << text; }
};

TEST(Verdict, SameOnlyForAnExactStdoutMatchWithClockTimesNormalized) {
  Tree t;
  auto v = tour::judge_example(t.dir, "twin", "a\nb at 12:34:56\nc\n", 0);
  EXPECT_EQ(v.kind, tour::Verdict::Kind::same);
  EXPECT_EQ(v.summary(), "same output as Python");
  EXPECT_TRUE(v.diff.empty());
}

TEST(Verdict, ExpectedLinesAmongOthersDiffer) {
  Tree t;
  // The old check passed this: the expected lines appear in order among others.
  auto v = tour::judge_example(t.dir, "twin", "a\nnoise\nb at HH:MM:SS\nc\n", 0);
  EXPECT_EQ(v.kind, tour::Verdict::Kind::differs);
  EXPECT_EQ(v.summary(), "DIFFERS from Python");
  EXPECT_EQ(v.diff, " a\n+noise\n b at HH:MM:SS\n c\n");
}

TEST(Verdict, ExpectedTextAsASubstringDiffers) {
  Tree t;
  auto v = tour::judge_example(t.dir, "twin", "header\na\nb at HH:MM:SS\nc\n", 0);
  EXPECT_EQ(v.kind, tour::Verdict::Kind::differs);
  EXPECT_EQ(v.diff, "+header\n a\n b at HH:MM:SS\n ...\n");
}

TEST(Verdict, AMissingFinalNewlineDiffers) {
  Tree t;
  auto v = tour::judge_example(t.dir, "twin", "a\nb at HH:MM:SS\nc", 0);
  EXPECT_EQ(v.kind, tour::Verdict::Kind::differs);
  EXPECT_EQ(v.diff, "(the lines are the same; the final newline differs)\n");
}

TEST(Verdict, TheExitStatusMustMatchTheTwins) {
  Tree t;
  EXPECT_EQ(tour::judge_example(t.dir, "fails", "x\n", 1).kind, tour::Verdict::Kind::same);
  auto v = tour::judge_example(t.dir, "fails", "x\n", 0);
  EXPECT_EQ(v.kind, tour::Verdict::Kind::differs);
  EXPECT_EQ(v.diff, "exit status 0, Python's twin exits with 1\n");
}

TEST(Verdict, AnExampleWithoutATwinIsNamedAsSuchEvenWithExpectedOutput) {
  Tree t;
  auto v = tour::judge_example(t.dir, "orphan", "a\n", 0);
  EXPECT_EQ(v.kind, tour::Verdict::Kind::no_twin);
  EXPECT_EQ(v.summary(), "no Python twin");
  EXPECT_TRUE(v.ok());
}

TEST(Verdict, ATwinWithoutExpectedOutputIsNotCompared) {
  Tree t;
  auto v = tour::judge_example(t.dir, "unchecked", "1.5\n", 0);
  EXPECT_EQ(v.kind, tour::Verdict::Kind::no_expected);
  EXPECT_EQ(v.summary(), "not compared (no expected output)");
}

TEST(LineDiff, ShowsReplacedLinesAsMinusThenPlusAndElidesLongUnchangedRuns) {
  EXPECT_EQ(tour::line_diff("1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\n4\n5\n6\nseven\n"), " ...\n 5\n 6\n-7\n+seven\n");
  EXPECT_EQ(tour::line_diff("same\n", "same\n"), "");
}

}  // namespace
