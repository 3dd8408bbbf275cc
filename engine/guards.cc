#include "engine/guards.h"

#include <nlohmann/json.hpp>

#include <thread>

#include "engine/journal.h"
#include "engine/run_state.h"
#include "engine/secrets.h"
#include "engine/step_kind.h"

namespace runbook {

namespace {

GuardResult Masked(GuardResult r, const std::vector<std::string>& redact) {
  r.summary = Mask(r.summary, redact);
  for (std::string& line : r.evidence) line = Mask(line, redact);
  return r;
}

void Record(const Guard& guard, GuardPhase phase, const GuardResult& r, const std::string& step,
            Reporter& reporter, Journal* journal) {
  reporter.GuardEvaluated(step, phase, guard.kind->Name(), r);
  if (journal) {
    (void)journal->Append(
        GuardRecord(step, phase, guard.kind->Name(), r.held, r.summary, r.evidence));
  }
}

}  // namespace

PhaseResult EvaluatePhase(const std::vector<Guard>& guards, GuardPhase phase, StepEnv& env,
                          Reporter& reporter, Journal* journal, const GuardPolicy& policy) {
  PhaseResult out;
  const auto start = std::chrono::steady_clock::now();
  std::vector<bool> final(guards.size(), false);
  for (size_t i = 0; i < guards.size(); ++i) {
    out.results.push_back(Masked(guards[i].kind->Evaluate(env), policy.redact));
    const bool waits = guards[i].wait && policy.allow_wait && phase == GuardPhase::kGuards;
    final[i] = out.results[i].held || !waits;
    if (final[i]) Record(guards[i], phase, out.results[i], env.step_id(), reporter, journal);
  }
  // Poll the guards that wait until each holds or its wait ends.
  for (;;) {
    bool pending = false;
    for (size_t i = 0; i < guards.size(); ++i) {
      if (final[i]) continue;
      const auto waited = std::chrono::steady_clock::now() - start;
      if (waited >= *guards[i].wait || env.Cancel().requested()) {
        final[i] = true;
        Record(guards[i], phase, out.results[i], env.step_id(), reporter, journal);
        continue;
      }
      pending = true;
      const double left = std::chrono::duration<double>(*guards[i].wait - waited).count();
      reporter.Waiting(env.step_id(),
                       std::string(guards[i].kind->Name()) + ": " + out.results[i].summary, left);
    }
    if (!pending) break;
    for (auto slept = Duration(0); slept < policy.poll_interval && !env.Cancel().requested();
         slept += Duration(50)) {
      std::this_thread::sleep_for(Duration(50));
    }
    for (size_t i = 0; i < guards.size(); ++i) {
      if (final[i]) continue;
      out.results[i] = Masked(guards[i].kind->Evaluate(env), policy.redact);
      if (out.results[i].held) {
        final[i] = true;
        Record(guards[i], phase, out.results[i], env.step_id(), reporter, journal);
      }
    }
  }

  std::string blocked, skipped;
  for (size_t i = 0; i < guards.size(); ++i) {
    GuardFact& fact = out.facts.emplace_back();
    fact.evaluated = true;
    fact.held = out.results[i].held;
    fact.on_fail = guards[i].on_fail;  // waiting is over: no longer may_wait
    const std::string what =
        std::string(guards[i].kind->Name()) + " (" + out.results[i].summary + ")";
    switch (DecideGuard(fact)) {
      case GuardDecision::kBlock:
        blocked += (blocked.empty() ? "" : "; ") + what;
        break;
      case GuardDecision::kSkip:
        skipped += (skipped.empty() ? "" : "; ") + what;
        break;
      case GuardDecision::kWarn:
        reporter.Notice("warning: step '" + env.step_id() + "': guard " + what +
                        " did not hold; going on (on_fail: warn)");
        break;
      case GuardDecision::kHolds:
      case GuardDecision::kNotEvaluated:
      case GuardDecision::kWait:
      case GuardDecision::kAgainLater:
        break;
    }
  }
  if (!blocked.empty()) {
    out.message = "blocked by " + blocked;
  } else if (!skipped.empty()) {
    out.message = "skipped: " + skipped;
  }
  return out;
}

}  // namespace runbook
