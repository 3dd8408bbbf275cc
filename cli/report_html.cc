#include "cli/report_html.h"

#include <algorithm>
#include <cstdio>

#include "engine/downtime.h"
#include "engine/secrets.h"
#include "engine/units.h"

namespace runbook {

namespace {

constexpr int kLabelWidth = 330;
constexpr int kBarsWidth = 720;
constexpr int kRowHeight = 24;
constexpr int kTop = 34;

const char* kStyle = R"(
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2329; max-width: 1100px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d8dde3; }
h3 { font-size: 15px; margin: 18px 0 4px; }
table { border-collapse: collapse; }
td, th { padding: 2px 10px 2px 0; text-align: left; vertical-align: top; }
th { color: #56606b; font-weight: 600; }
.facts td:first-child { color: #56606b; }
.success, .done { color: #1f7a45; } .failure, .timed_out, .blocked, .unknown { color: #b42323; }
.skipped, .interrupted { color: #8a5a00; }
pre { background: #f5f7f9; padding: 8px; overflow-x: auto; font-size: 12px; max-height: 480px; }
.held { color: #1f7a45; } .not-held { color: #b42323; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 14px; height: 10px; margin-right: 4px; vertical-align: middle; }
svg text { font: 12px system-ui, sans-serif; }
)";

const char* kScript = R"(
function setLogs(open) {
  document.querySelectorAll('details.log').forEach(function (d) { d.open = open; });
}
)";

std::string Color(const TimelineSegment& s) {
  switch (s.kind) {
    case TimelineSegment::Kind::kChecks:
      return s.outcome == "blocked" ? "#e7a3a3" : "#c9ced4";
    case TimelineSegment::Kind::kConfirmation:
      return "#f2c94c";
    case TimelineSegment::Kind::kAttempt:
      break;
  }
  if (s.outcome == "success") return "#2e9e5b";
  if (s.outcome == "interrupted") return "#e08a1e";
  if (s.outcome == "unknown") return "#8e44ad";
  return "#d64545";  // failure, timed_out
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Seconds(int64_t ms) {
  return FormatElapsed(ms / 1000.0);
}

std::string ClockTime(int64_t ms) {
  const int64_t s = (ms / 1000) % 86400;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", static_cast<int>(s / 3600),
                static_cast<int>(s / 60 % 60), static_cast<int>(s % 60));
  return buf;
}

std::string SegmentTitle(const std::string& step, const TimelineSegment& s) {
  std::string what;
  switch (s.kind) {
    case TimelineSegment::Kind::kChecks:
      what = "checks (guards, done_when, waits)" + (s.outcome.empty() ? "" : ": " + s.outcome);
      break;
    case TimelineSegment::Kind::kConfirmation:
      what = "waiting for the operator's answer: " + s.outcome;
      break;
    case TimelineSegment::Kind::kAttempt:
      what = "attempt " + std::to_string(s.attempt) + ": " + s.outcome;
      break;
  }
  return step + " - " + what + ", " + Seconds(s.end_ms - s.start_ms) + " from " +
         ClockTime(s.start_ms) + " UTC";
}

class Page {
 public:
  explicit Page(const ReportInput& in) : in_(in) {}

  std::string Render() {
    const RunState& rs = in_.state;
    out_ += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    out_ += "<meta name=\"viewport\" content=\"width=device-width\">\n";
    out_ += "<title>" + E("run " + rs.run_id + " of " + rs.runbook) + "</title>\n";
    out_ += "<style>" + std::string(kStyle) + "</style>\n<script>" + kScript + "</script>\n";
    out_ += "</head><body>\n";
    out_ += "<h1>" + E(rs.runbook) + " &mdash; run " + E(rs.run_id) + "</h1>\n";
    Facts();
    Timeline();
    Params();
    Steps();
    out_ += "</body></html>\n";
    return out_;
  }

 private:
  std::string E(std::string_view text) const { return HtmlEscape(Mask(text, in_.redact)); }

  void Fact(const std::string& key, const std::string& escaped_value) {
    out_ += "<tr><td>" + key + "</td><td>" + escaped_value + "</td></tr>\n";
  }

  void Facts() {
    const RunState& rs = in_.state;
    const std::string outcome = rs.finished ? rs.outcome : "unfinished";
    out_ += "<table class=\"facts\">\n";
    Fact("outcome", "<b class=\"" + E(outcome) + "\" id=\"outcome\">" + E(outcome) + "</b>" +
                        (rs.finished ? " (exit " + std::to_string(rs.exit_code) + ")" : ""));
    Fact("runbook", E(rs.runbook) + " <code>" + E(rs.path) + "</code>");
    Fact("operator", E(rs.user.empty() ? "(not recorded)" : rs.user) + " on " + E(rs.host));
    Fact("started", E(rs.started_at) + (rs.ended_at.empty() ? "" : ", ended " + E(rs.ended_at)) +
                        " (" + Seconds(in_.timeline.end_ms - in_.timeline.start_ms) + ")");
    if (rs.resumes > 0) Fact("resumed", std::to_string(rs.resumes) + " time(s)");
    if (rs.downtime) {
      std::string d = E(DowntimeText(*rs.downtime));
      const ExpectedDowntime& x = in_.expected_downtime;
      d += x.seconds ? E("; expected " + FormatElapsed(*x.seconds) + " (median of " +
                         std::to_string(x.runs) + " earlier run" + (x.runs == 1 ? "" : "s") + ")")
                     : "; expected: unknown (no earlier run measured it)";
      Fact("downtime", "<span id=\"downtime\">" + d + "</span>");
    }
    out_ += "</table>\n";
  }

  // After the timeline: a runbook's params can be many lines.
  void Params() {
    const RunState& rs = in_.state;
    if (rs.params.empty() && in_.secret_names.empty() && rs.inventories.empty()) return;
    out_ += "<h2>Params</h2>\n<table class=\"facts params\">\n";
    for (const auto& [k, v] : rs.params)
      Fact("<code>" + E(k) + "</code>", "<code>" + E(v) + "</code>");
    for (const std::string& name : in_.secret_names) {
      Fact("<code>" + E(name) + "</code>", "<code>***</code> (secret)");
    }
    if (!rs.inventories.empty()) {
      std::string inv;
      for (const std::string& i : rs.inventories) inv += "<code>" + E(i) + "</code><br>";
      Fact("inventories", inv);
    }
    out_ += "</table>\n";
  }

  double X(int64_t ms) const {
    const int64_t span = std::max<int64_t>(1, in_.timeline.end_ms - in_.timeline.start_ms);
    return kLabelWidth + static_cast<double>(ms - in_.timeline.start_ms) * kBarsWidth / span;
  }

  void Timeline() {
    const auto& t = in_.timeline;
    const int rows = static_cast<int>(t.steps.size());
    const int height = kTop + rows * kRowHeight + 24;
    out_ += "<h2>Timeline</h2>\n<div class=\"legend\">";
    for (const auto& [color, what] :
         std::vector<std::pair<std::string, std::string>>{{"#c9ced4", "checks and guard waits"},
                                                          {"#f2c94c", "waiting for an answer"},
                                                          {"#2e9e5b", "attempt succeeded"},
                                                          {"#d64545", "attempt failed"},
                                                          {"#8e44ad", "outcome unknown"}}) {
      out_ += "<span><i style=\"background:" + color + "\"></i>" + what + "</span>";
    }
    out_ += "<span><i style=\"border:1px dashed #333\"></i>expected duration</span>";
    out_ += "<span><i style=\"background:rgba(214,69,69,.15)\"></i>downtime</span></div>\n";
    out_ += "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
            std::to_string(kLabelWidth + kBarsWidth + 20) + "\" height=\"" +
            std::to_string(height) + "\" role=\"img\" aria-label=\"timeline of the run\">\n";
    // Time axis: about 8 ticks at a round number of seconds.
    const double span_s = (t.end_ms - t.start_ms) / 1000.0;
    double tick = 1;
    for (double step : {1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
                        7200.0, 21600.0}) {
      tick = step;
      if (span_s / step <= 8) break;
    }
    for (double s = 0; s <= span_s; s += tick) {
      const double x = X(t.start_ms + static_cast<int64_t>(s * 1000));
      out_ += "<line x1=\"" + Num(x) + "\" x2=\"" + Num(x) + "\" y1=\"" + std::to_string(kTop - 6) +
              "\" y2=\"" + std::to_string(height - 20) + "\" stroke=\"#e3e7eb\"/>";
      out_ += "<text x=\"" + Num(x) + "\" y=\"" + std::to_string(height - 6) +
              "\" text-anchor=\"middle\" fill=\"#56606b\">" +
              E(FormatDuration(Duration(static_cast<int64_t>(s * 1000)))) + "</text>\n";
    }
    if (t.window_start_ms) {
      const int64_t end = t.window_end_ms.value_or(t.end_ms);
      const double x0 = X(*t.window_start_ms), x1 = X(end);
      out_ += "<g class=\"downtime\"><rect x=\"" + Num(x0) + "\" y=\"" + std::to_string(kTop - 16) +
              "\" width=\"" + Num(std::max(1.0, x1 - x0)) + "\" height=\"" +
              std::to_string(rows * kRowHeight + 16) +
              "\" fill=\"rgba(214,69,69,.15)\" stroke=\"#d64545\" stroke-dasharray=\"4 3\"/>";
      out_ += "<text x=\"" + Num(x0 + 4) + "\" y=\"" + std::to_string(kTop - 4) +
              "\" fill=\"#b42323\">" +
              E("downtime " + (t.window_end_ms ? Seconds(end - *t.window_start_ms)
                                               : "open since " + ClockTime(*t.window_start_ms))) +
              "</text></g>\n";
    }
    for (int i = 0; i < rows; ++i) Row(t.steps[i], kTop + i * kRowHeight);
    out_ += "</svg>\n";
  }

  void Row(const TimelineStep& s, int y) {
    out_ += "<g class=\"row\" data-step=\"" + E(s.id) + "\">";
    if (s.in_finally) {
      out_ += "<text x=\"4\" y=\"" + std::to_string(y + 16) + "\" fill=\"#56606b\">finally</text>";
    }
    out_ += "<text class=\"step\" x=\"" + std::to_string(s.in_finally ? 52 : 4) + "\" y=\"" +
            std::to_string(y + 16) + "\"><a href=\"#step-" + E(s.id) + "\">" + E(s.id) +
            "</a></text>";
    std::string times = s.segments.empty() ? "not run" : Seconds(s.duration_ms);
    if (s.attempts > 1) times = std::to_string(s.attempts) + " attempts, " + times;
    auto expected = in_.expected_seconds.find(s.id);
    if (expected != in_.expected_seconds.end()) {
      times += " / exp " + FormatElapsed(expected->second);
    }
    out_ += "<text x=\"" + std::to_string(kLabelWidth - 6) + "\" y=\"" + std::to_string(y + 16) +
            "\" text-anchor=\"end\" fill=\"#56606b\">" + E(times) + "</text>";
    for (const TimelineSegment& seg : s.segments) {
      const double x0 = X(seg.start_ms), x1 = X(seg.end_ms);
      const bool thin = seg.kind == TimelineSegment::Kind::kChecks;
      out_ += "<rect class=\"" + std::string(thin ? "checks" : "bar") + "\" x=\"" + Num(x0) +
              "\" y=\"" + std::to_string(y + (thin ? 9 : 4)) + "\" width=\"" +
              Num(std::max(2.0, x1 - x0)) + "\" height=\"" + (thin ? "6" : "16") + "\" fill=\"" +
              Color(seg) + "\"><title>" + E(SegmentTitle(s.id, seg)) + "</title></rect>";
    }
    if (expected != in_.expected_seconds.end() && !s.segments.empty()) {
      const int64_t start = s.segments.front().start_ms;
      const double x0 = X(start), x1 = X(start + static_cast<int64_t>(expected->second * 1000));
      out_ += "<rect class=\"expected\" x=\"" + Num(x0) + "\" y=\"" + std::to_string(y + 2) +
              "\" width=\"" + Num(std::max(1.0, x1 - x0)) +
              "\" height=\"20\" fill=\"none\" stroke=\"#333\" stroke-dasharray=\"3 2\"><title>" +
              E(s.id + " expected " + FormatElapsed(expected->second) + " from earlier runs") +
              "</title></rect>";
    }
    out_ += "</g>\n";
  }

  void Steps() {
    out_ +=
        "<h2>Steps</h2>\n<p><button onclick=\"setLogs(true)\">open every log</button> "
        "<button onclick=\"setLogs(false)\">close every log</button></p>\n";
    for (const TimelineStep& s : in_.timeline.steps) {
      const std::string outcome =
          s.outcome.empty() ? (s.segments.empty() ? "not run" : "unknown") : s.outcome;
      out_ += "<section id=\"step-" + E(s.id) + "\"><h3>" + E(s.id) + " &mdash; <span class=\"" +
              E(outcome) + "\">" + E(outcome) + "</span></h3>\n";
      auto st = in_.state.steps.find(s.id);
      std::string line = std::to_string(s.attempts) + " attempt" + (s.attempts == 1 ? "" : "s") +
                         ", " + Seconds(s.duration_ms);
      auto expected = in_.expected_seconds.find(s.id);
      if (expected != in_.expected_seconds.end()) {
        line += " (expected " + FormatElapsed(expected->second) + ")";
      }
      if (st != in_.state.steps.end() && !st->second.message.empty()) {
        line += ": " + st->second.message;
      }
      out_ += "<p>" + E(line) + "</p>\n";
      if (!s.guards.empty()) {
        out_ +=
            "<table class=\"guards\"><tr><th>when</th><th>check</th><th>held</th>"
            "<th>what it observed</th></tr>\n";
        for (const GuardObservation& g : s.guards) {
          out_ += "<tr><td>" + E(g.ts.size() >= 19 ? g.ts.substr(11, 8) : g.ts) + "</td><td>" +
                  E(g.phase + " " + g.kind) + "</td><td class=\"" +
                  (g.held ? "held\">held" : "not-held\">did not hold") + "</td><td>" + E(g.summary);
          for (const std::string& e : g.evidence) out_ += "<br><code>" + E(e) + "</code>";
          out_ += "</td></tr>\n";
        }
        out_ += "</table>\n";
      }
      auto log = in_.logs.find(s.id);
      if (log != in_.logs.end()) {
        const long lines = std::count(log->second.begin(), log->second.end(), '\n');
        out_ += "<details class=\"log\"><summary>log (" + std::to_string(lines) + " line" +
                (lines == 1 ? "" : "s") + ")</summary><pre>" + E(log->second) +
                "</pre></details>\n";
      }
      out_ += "</section>\n";
    }
  }

  const ReportInput& in_;
  std::string out_;
};

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RunReportHtml(const ReportInput& input) {
  return Page(input).Render();
}

}  // namespace runbook
