// The timeline a report draws, from journal records: checks before the first attempt, a bar per
// attempt (a retry, an engine that died mid-attempt, a resume's second turn), the operator's wait,
// the downtime window; and the page's escaping and masking of what the journal and logs hold.
// The page as Chromium renders it: tests/e2e/report.sh.
#include "engine/run_timeline.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/report_html.h"

namespace runbook {
namespace {

using nlohmann::json;
using Kind = TimelineSegment::Kind;

// "2026-12-07T10:00:SS.mmmZ" for `ms` after 10:00:00.
std::string Ts(int ms) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2026-12-07T10:%02d:%02d.%03dZ", ms / 60000, ms / 1000 % 60,
                ms % 1000);
  return buf;
}
constexpr int64_t kT0 = 1796637600000;  // 2026-12-07T10:00:00Z

json Rec(int ms, json r) {
  r["ts"] = Ts(ms);
  return r;
}

std::vector<json> Journal() {
  return {
      Rec(0, {{"type", "run_started"},
              {"step_ids", {"a", "b"}},
              {"downtime", {{"from", "b"}, {"to", "b"}}}}),
      Rec(100, {{"type", "step_started"}, {"step", "a"}, {"attempt", 1}}),
      Rec(600, {{"type", "step_finished"},
                {"step", "a"},
                {"attempt", 1},
                {"outcome", "success"},
                {"duration_ms", 600}}),
      // b: a guard waited 2 s, the operator 1 s, then a failed attempt and a retry.
      Rec(2700, {{"type", "guard"},
                 {"step", "b"},
                 {"phase", "guards"},
                 {"kind", "command"},
                 {"held", true},
                 {"summary", "exit 0"}}),
      Rec(3700,
          {{"type", "confirmation"}, {"step", "b"}, {"confirmed", true}, {"waited_ms", 1000}}),
      Rec(3700, {{"type", "step_started"}, {"step", "b"}, {"attempt", 1}}),
      Rec(4000, {{"type", "step_finished"},
                 {"step", "b"},
                 {"attempt", 1},
                 {"outcome", "failure"},
                 {"duration_ms", 3400}}),
      Rec(5000, {{"type", "step_started"}, {"step", "b"}, {"attempt", 2}}),
      Rec(5500, {{"type", "step_finished"},
                 {"step", "b"},
                 {"attempt", 2},
                 {"outcome", "success"},
                 {"duration_ms", 4900}}),
      Rec(5500, {{"type", "downtime"},
                 {"from", "b"},
                 {"to", "b"},
                 {"opened", Ts(3700)},
                 {"closed", Ts(5500)},
                 {"duration_ms", 1800}}),
      Rec(5600, {{"type", "step_started"}, {"step", "fin"}, {"attempt", 1}}),
  };
}

TEST(RunTimelineTest, ChecksConfirmationAndABarPerAttempt) {
  const Timeline t = BuildTimeline(Journal());
  EXPECT_EQ(t.start_ms, kT0);
  EXPECT_EQ(t.end_ms, kT0 + 5600);
  ASSERT_EQ(t.steps.size(), 3u);
  const TimelineStep& b = t.steps[1];
  EXPECT_EQ(b.id, "b");
  EXPECT_EQ(b.attempts, 2);
  EXPECT_EQ(b.outcome, "success");
  EXPECT_EQ(b.duration_ms, 4900);
  ASSERT_EQ(b.segments.size(), 4u);
  EXPECT_EQ(b.segments[0].kind, Kind::kChecks);
  EXPECT_EQ(b.segments[0].start_ms, kT0 + 600);
  EXPECT_EQ(b.segments[0].end_ms, kT0 + 3700);
  EXPECT_EQ(b.segments[1].kind, Kind::kConfirmation);
  EXPECT_EQ(b.segments[1].start_ms, kT0 + 2700);
  EXPECT_EQ(b.segments[1].outcome, "confirmed");
  EXPECT_EQ(b.segments[2].kind, Kind::kAttempt);
  EXPECT_EQ(b.segments[2].outcome, "failure");
  EXPECT_EQ(b.segments[3].kind, Kind::kAttempt);
  EXPECT_EQ(b.segments[3].attempt, 2);
  EXPECT_EQ(b.segments[3].start_ms, kT0 + 5000);
  ASSERT_EQ(b.guards.size(), 1u);
  EXPECT_EQ(b.guards[0].summary, "exit 0");
  EXPECT_EQ(t.window_start_ms, kT0 + 3700);
  EXPECT_EQ(t.window_end_ms, kT0 + 5500);
}

TEST(RunTimelineTest, AnAttemptWithoutAnEndIsUnknownAndAStepNotPlannedIsFinally) {
  const Timeline t = BuildTimeline(Journal());
  const TimelineStep& fin = t.steps[2];
  EXPECT_TRUE(fin.in_finally);
  ASSERT_EQ(fin.segments.size(), 1u);
  EXPECT_EQ(fin.segments[0].outcome, "unknown");
  EXPECT_EQ(fin.segments[0].end_ms, t.end_ms);
  EXPECT_FALSE(t.steps[0].in_finally);
}

TEST(RunTimelineTest, AResumeIsAnotherTurnOfTheStep) {
  std::vector<json> j = {
      Rec(0, {{"type", "run_started"}, {"step_ids", {"a"}}}),
      Rec(100, {{"type", "step_started"}, {"step", "a"}, {"attempt", 1}}),
      // The engine died; the resume starts the step again a minute later.
      Rec(60000, {{"type", "run_resumed"}}),
      Rec(60100, {{"type", "step_started"}, {"step", "a"}, {"attempt", 1}}),
      Rec(60600, {{"type", "step_finished"},
                  {"step", "a"},
                  {"attempt", 1},
                  {"outcome", "success"},
                  {"duration_ms", 550}}),
  };
  const Timeline t = BuildTimeline(j);
  const TimelineStep& a = t.steps[0];
  ASSERT_EQ(a.segments.size(), 3u);
  EXPECT_EQ(a.segments[0].outcome, "unknown");
  EXPECT_EQ(a.segments[0].end_ms, kT0 + 60100);
  EXPECT_EQ(a.segments[1].kind, Kind::kChecks);
  EXPECT_EQ(a.segments[2].outcome, "success");
  EXPECT_EQ(a.duration_ms, 550);
}

TEST(ReportHtmlTest, EveryValueIsEscapedAndMasked) {
  EXPECT_EQ(HtmlEscape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  ReportInput in;
  in.state.run_id = "20261207T100000Z-abcd";
  in.state.runbook = "r</title><script>";
  in.state.params = {{"p", "<img src=x onerror=alert(1)>"}};
  in.timeline = BuildTimeline(Journal());
  in.logs["a"] = "the secret is hunter22 </pre><script>alert(2)</script>";
  in.redact = {"hunter22"};
  const std::string html = RunReportHtml(in);
  EXPECT_EQ(html.find("hunter22"), std::string::npos);
  EXPECT_NE(html.find("the secret is ***"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("</title><script>"), std::string::npos);
  // One page: its only script and style are its own.
  EXPECT_EQ(html.find("<script", html.find("</script>")), std::string::npos);
}

}  // namespace
}  // namespace runbook
