#include "cli/terminal_reporter.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>

#include "engine/printable.h"
#include "engine/units.h"

namespace runbook {

namespace {

const char* kGreen = "32";
const char* kRed = "31";
const char* kYellow = "33";
const char* kDim = "2";
const char* kBold = "1";

const char* OutcomeColor(StepOutcomeKind k) {
  switch (k) {
    case StepOutcomeKind::kSuccess:
    case StepOutcomeKind::kDone:
    case StepOutcomeKind::kAlreadyDone:
      return kGreen;
    case StepOutcomeKind::kSkipped:
    case StepOutcomeKind::kNotRun:
    case StepOutcomeKind::kNotSelected:
      return kDim;
    case StepOutcomeKind::kBlocked:
    case StepOutcomeKind::kInterrupted:
      return kYellow;
    default:
      return kRed;
  }
}

}  // namespace

TerminalOptions DetectTerminal(int jobs) {
  TerminalOptions o;
  const char* term = std::getenv("TERM");
  const char* no_color = std::getenv("NO_COLOR");
  // no-color.org: NO_COLOR set to a non-empty value. An operator who asks for no colour (or whose
  // terminal cannot move the cursor) gets no escape sequences at all, so no spinner either.
  o.progress = isatty(STDOUT_FILENO) && !(term && std::strcmp(term, "dumb") == 0) &&
               !(no_color && *no_color);
  o.color = o.progress;
  o.prefix_ids = jobs > 1;
  return o;
}

TerminalReporter::TerminalReporter(TerminalOptions options, std::FILE* out)
    : options_(options), out_(out), start_(std::chrono::steady_clock::now()) {
  if (options_.progress || options_.heartbeat.count() > 0) {
    ticker_ = std::thread([this] { Tick(); });
  }
}

TerminalReporter::~TerminalReporter() {
  stop_ = true;
  if (ticker_.joinable()) ticker_.join();
  std::lock_guard<std::mutex> lock(mu_);
  ClearProgress();
}

void TerminalReporter::Tick() {
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    std::lock_guard<std::mutex> lock(mu_);
    if (!question_.empty()) continue;  // the question keeps the screen until it is answered
    if (options_.progress) {
      ++spin_;
      if (!current_.empty() || !waiting_.empty()) DrawProgress();
    } else {
      Heartbeat();
    }
  }
}

void TerminalReporter::Heartbeat() {
  if (options_.heartbeat.count() <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto& [id, last] : last_output_) {
    if (now - last < options_.heartbeat) continue;
    const double silent = std::chrono::duration<double>(now - last).count();
    const double running = std::chrono::duration<double>(now - step_start_[id]).count();
    last = now;
    Print("  " + id + " still running after " + FormatElapsed(running) + ", no output for " +
          FormatElapsed(silent));
  }
}

std::string TerminalReporter::Paint(const char* code, const std::string& text) const {
  if (!options_.color) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

std::string TerminalReporter::Stamp() const {
  if (options_.progress) return "";
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S ", &tm);
  return buf;
}

void TerminalReporter::ClearProgress() {
  if (progress_shown_) {
    std::fputs("\r\033[K", out_);
    progress_shown_ = false;
  }
}

void TerminalReporter::DrawProgress() {
  if (!options_.progress || !question_.empty()) return;
  static const char* kSpinner[] = {"|", "/", "-", "\\"};
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = std::string(kSpinner[spin_ % 4]) + " step " + std::to_string(index_) + " of " +
                     std::to_string(total_);
  if (!current_.empty()) {
    line += ": ";
    bool first = true;
    for (const std::string& s : current_) {
      line += (first ? "" : ", ") + s;
      first = false;
    }
  }
  if (!waiting_.empty()) line += " (waiting: " + waiting_ + ")";
  line += "  " + FormatElapsed(elapsed);
  if (line.size() > 150) line = line.substr(0, 147) + "...";
  std::fputs("\r\033[K", out_);
  std::fputs(Paint(kDim, line).c_str(), out_);
  std::fflush(out_);
  progress_shown_ = true;
}

void TerminalReporter::Print(const std::string& line) {
  if (!question_.empty()) {
    // The answer is being typed on the question's line: print above a fresh copy of it.
    std::fputs(options_.progress ? "\r\033[K" : "\n", out_);
  } else {
    ClearProgress();
  }
  std::fputs(Stamp().c_str(), out_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  if (!question_.empty()) {
    std::fputs(question_.c_str(), out_);
  } else if (!current_.empty() || !waiting_.empty()) {
    DrawProgress();
  }
  // Every line, not only on a terminal: `tail -f` of a redirected run must see it now.
  std::fflush(out_);
}

void TerminalReporter::BeginQuestion(const std::string& question) {
  std::lock_guard<std::mutex> lock(mu_);
  ClearProgress();
  question_ = question;
  std::fputs(question_.c_str(), out_);
  std::fflush(out_);
}

void TerminalReporter::EndQuestion(bool answered) {
  std::lock_guard<std::mutex> lock(mu_);
  question_.clear();
  // The terminal echoed the answer and its newline; at end of input the line is still open.
  if (!answered) std::fputc('\n', out_);
  std::fflush(out_);
  // Waiting for the operator is not a step's silence.
  const auto now = std::chrono::steady_clock::now();
  for (auto& [id, last] : last_output_) last = now;
}

void TerminalReporter::RunStarted(const std::string& runbook, const std::string& run_id,
                                  int total_steps, DryRun dry_run) {
  std::lock_guard<std::mutex> lock(mu_);
  total_ = total_steps;
  Print(Paint(kBold, std::string(dry_run == DryRun::kYes ? "dry run of " : "run ") + runbook +
                         " (" + run_id + "), " + std::to_string(total_steps) + " steps"));
}

void TerminalReporter::StepStarted(const std::string& step_id, int index, int total) {
  std::lock_guard<std::mutex> lock(mu_);
  index_ = index;
  total_ = total;
  current_.insert(step_id);
  step_start_[step_id] = last_output_[step_id] = std::chrono::steady_clock::now();
  Print(Paint(kBold, "> " + step_id) +
        Paint(kDim, " (" + std::to_string(index) + "/" + std::to_string(total) + ")"));
}

void TerminalReporter::StepLine(const std::string& step_id, Stream stream, std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = last_output_.find(step_id); it != last_output_.end()) {
    it->second = std::chrono::steady_clock::now();
  }
  std::string text = options_.prefix_ids ? "[" + step_id + "] " : "  ";
  // A child's or a server's bytes: escaped here, kept as they are in the step's log file.
  const std::string shown = Printable(line);
  if (stream == Stream::kInfo) {
    text += Paint(kDim, shown);
  } else if (stream == Stream::kStderr) {
    text += Paint(kYellow, shown);
  } else {
    text += shown;
  }
  Print(text);
}

void TerminalReporter::GuardEvaluated(const std::string& step_id, GuardPhase phase,
                                      const char* kind, const GuardResult& result) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string prefix = options_.prefix_ids ? "[" + step_id + "] " : "  ";
  const std::string mark = result.held ? Paint(kGreen, "ok  ") : Paint(kRed, "FAIL");
  // Summaries and evidence quote servers and other sessions (query texts, file names).
  Print(prefix + mark + " " + GuardPhaseName(phase) + " " + kind + ": " +
        Printable(result.summary));
  if (!result.held) {
    for (const std::string& e : result.evidence) Print(prefix + "       " + Printable(e));
  }
  waiting_.clear();
}

void TerminalReporter::Waiting(const std::string& step_id, const std::string& what,
                               double seconds_left) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string text = step_id + ": " + what + ", " + FormatElapsed(seconds_left) + " left";
  if (options_.progress) {
    waiting_ = text;
    DrawProgress();
  } else if (waiting_ != what) {
    // Plain output: say it once per distinct state, not every poll.
    waiting_ = what;
    Print("  waiting: " + text);
  }
}

void TerminalReporter::StepFinished(const StepSummary& s) {
  std::lock_guard<std::mutex> lock(mu_);
  current_.erase(s.id);
  last_output_.erase(s.id);
  step_start_.erase(s.id);
  waiting_.clear();
  std::string line =
      Paint(OutcomeColor(s.outcome), std::string("= ") + s.id + " " + StepOutcomeName(s.outcome));
  if (s.seconds > 0) line += Paint(kDim, " " + FormatElapsed(s.seconds));
  if (!s.message.empty()) line += Paint(kDim, " (" + Printable(s.message) + ")");
  Print(line);
}

void TerminalReporter::Notice(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  Print(Paint(kYellow, "! " + Printable(text)));
}

void TerminalReporter::RunFinished(const std::vector<StepSummary>& steps, int exit_code) {
  std::lock_guard<std::mutex> lock(mu_);
  current_.clear();
  last_output_.clear();
  size_t width = 4;
  for (const StepSummary& s : steps) width = std::max(width, s.id.size());
  char head[256];
  std::snprintf(head, sizeof head, "%-*s  %-12s  %9s  %s", static_cast<int>(width), "step",
                "outcome", "duration", "attempts");
  Print("");
  Print(Paint(kBold, head));
  for (const StepSummary& s : steps) {
    char row[512];
    std::snprintf(row, sizeof row, "%-*s  %-12s  %9s  %d", static_cast<int>(width), s.id.c_str(),
                  StepOutcomeName(s.outcome),
                  s.seconds > 0 ? FormatElapsed(s.seconds).c_str() : "-", s.attempts);
    Print(Paint(OutcomeColor(s.outcome), row));
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  Print("exit " + std::to_string(exit_code) + " after " + FormatElapsed(elapsed));
}

bool TerminalPrompter::interactive() const {
  return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

bool TerminalPrompter::Confirm(const std::string& text) {
  screen_->BeginQuestion(text + " [y/N] ");
  std::string answer;
  const bool answered = static_cast<bool>(std::getline(std::cin, answer));
  screen_->EndQuestion(answered);
  if (!answered) return false;
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

}  // namespace runbook
