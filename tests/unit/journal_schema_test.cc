// schemas/journal.schema.json documents the records engine/run_state.h writes. These tests keep
// the two in step: every field a builder writes is documented, every required field is written,
// and (with ajv from tests/node_modules, installed by `make deps`) a journal written through
// engine/journal.h validates.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/journal.h"
#include "engine/run_state.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json LoadSchema() {
  std::ifstream in(std::string(RUNBOOK_SOURCE_DIR) + "/schemas/journal.schema.json");
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

// One record of each type, every optional field filled.
std::vector<json> OneOfEach() {
  RunStartedInfo start;
  start.run_id = "20261125T054302Z-3fa9";
  start.runbook = "clone-prod";
  start.path = "/srv/clone-prod.yaml";
  start.inventories = {"/srv/jane.yaml"};
  start.sets = {{"sample_every", "10"}};
  start.params = {{"sample_every", "10"}};
  start.step_ids = {"a"};
  start.pid = 1;
  start.user = "u";
  start.host = "h";
  start.boot_id = "b";
  start.downtime = {{"a", "a"}};
  start.finally_ids = {"f"};
  start.step_needs = {{"a", {}}, {"f", {"a"}}};
  start.selection = {{"a"}, "a", {"a"}};
  RunResumedInfo resumed;
  resumed.pid = 2;
  resumed.user = "u";
  resumed.host = "h";
  resumed.boot_id = "b";
  resumed.selection = {{"b"}, "b", {"b"}};
  resumed.inventories = std::vector<std::string>{"/srv/other.yaml"};
  resumed.sets = std::vector<std::pair<std::string, std::string>>{{"k", "v"}};
  resumed.params = std::map<std::string, std::string>{{"k", "v"}};
  resumed.step_ids = {"b"};
  resumed.finally_ids = {"f"};
  resumed.step_needs = {{"b", {}}, {"f", {"b"}}};
  resumed.renamed = {{"a", "b"}};
  StepFinishedInfo finish;
  finish.step = "a";
  finish.outcome = StepOutcomeKind::kTimedOut;
  finish.exit_code = 1;
  finish.signal = 15;
  finish.duration_ms = 10;
  finish.message = "m";
  return {RunStartedRecord(start),
          RunResumedRecord(resumed),
          StepStartedRecord("a", 1, "hash"),
          StepProcessRecord("a", 77, "b"),
          StepFinishedRecord(finish),
          GuardRecord("a", GuardPhase::kVerify, "sql", true, "s", {"e"}),
          StepDataRecord("a", "k", "v"),
          ConfirmationRecord("a", true, 1500, AnsweredBy::kTerminal),
          DowntimeRecord("a", "a", "2026-11-25T05:43:02.123Z", "2026-11-25T05:43:25.456Z", 23333),
          RunFinishedRecord(RunOutcome::kFailure, 1)};
}

TEST(JournalSchemaTest, DocumentsEveryFieldTheBuildersWrite) {
  const json schema = LoadSchema();
  ASSERT_TRUE(schema.is_object()) << "schemas/journal.schema.json does not parse";
  const json& common = schema["properties"];
  std::set<std::string> types;
  for (const json& record : OneOfEach()) {
    const std::string type = record["type"];
    SCOPED_TRACE(type);
    types.insert(type);
    ASSERT_TRUE(schema["$defs"].contains(type));
    const json& def = schema["$defs"][type];
    for (const auto& [key, value] : record.items()) {
      EXPECT_TRUE(def["properties"].contains(key) || common.contains(key))
          << "undocumented field " << key;
    }
    for (const json& key : def["required"]) {
      EXPECT_TRUE(record.contains(key.get<std::string>())) << "required field " << key;
    }
  }
  const json& listed = common["type"]["enum"];
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), types);
  EXPECT_EQ(schema["$defs"].size(), types.size());
}

TEST(JournalSchemaTest, OutcomesMatchTheEngine) {
  const json schema = LoadSchema();
  std::set<std::string> step_outcomes;
  for (StepOutcomeKind o :
       {StepOutcomeKind::kSuccess, StepOutcomeKind::kFailure, StepOutcomeKind::kSkipped,
        StepOutcomeKind::kDone, StepOutcomeKind::kInterrupted, StepOutcomeKind::kTimedOut,
        StepOutcomeKind::kBlocked}) {
    step_outcomes.insert(StepOutcomeName(o));
  }
  const json& listed = schema["$defs"]["step_finished"]["properties"]["outcome"]["enum"];
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), step_outcomes);
  std::set<std::string> run_outcomes;
  for (RunOutcome o : {RunOutcome::kSuccess, RunOutcome::kFailure, RunOutcome::kBlocked,
                       RunOutcome::kInterrupted}) {
    run_outcomes.insert(RunOutcomeName(o));
  }
  const json& run_listed = schema["$defs"]["run_finished"]["properties"]["outcome"]["enum"];
  EXPECT_EQ(std::set<std::string>(run_listed.begin(), run_listed.end()), run_outcomes);
  EXPECT_EQ(schema["properties"]["format"]["const"], kJournalFormat);
}

class JournalAjvTest : public testing::Test {
 protected:
  void SetUp() override {
    ajv_ = std::string(RUNBOOK_SOURCE_DIR) + "/tests/node_modules/.bin/ajv";
    if (!fs::exists(ajv_)) GTEST_SKIP() << "ajv is not installed (make deps installs it)";
    std::string templ = (fs::temp_directory_path() / "journal_schema_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // Writes each record to its own file and validates them all; returns ajv's exit status.
  int Validate(const std::vector<json>& records, std::string* output) {
    const std::string data = dir_ + "/records";
    fs::remove_all(data);
    fs::create_directories(data);
    for (size_t i = 0; i < records.size(); ++i) {
      std::ofstream(data + "/" + std::to_string(i) + ".json") << records[i].dump();
    }
    const std::string out = dir_ + "/ajv.out";
    const std::string cmd = "'" + ajv_ + "' validate --spec=draft2020 -s '" + RUNBOOK_SOURCE_DIR +
                            "/schemas/journal.schema.json' -d '" + data + "/*.json' >'" + out +
                            "' 2>&1";
    int rc = std::system(cmd.c_str());
    std::ifstream in(out);
    output->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return rc;
  }
  std::string ajv_;
  std::string dir_;
};

TEST_F(JournalAjvTest, AJournalOfEveryRecordValidates) {
  const std::string path = dir_ + "/journal.jsonl";
  {
    auto journal = Journal::Create(path);
    ASSERT_TRUE(journal.ok()) << journal.message();
    for (const json& r : OneOfEach()) ASSERT_TRUE(journal.value()->Append(r).ok());
  }
  auto contents = ReadJournal(path);
  ASSERT_TRUE(contents.ok()) << contents.message();
  std::string output;
  EXPECT_EQ(Validate(contents->records, &output), 0) << output;

  // The schema is strict enough to catch drift: an unknown field, a wrong outcome, a first
  // record without the format. (One ajv run for all three: node starts slowly.)
  std::vector<json> bad = {contents->records[0], contents->records[1], contents->records[3]};
  bad[0].erase("format");
  bad[1]["surprise"] = 1;
  bad[2]["outcome"] = "succeeded";
  EXPECT_NE(Validate(bad, &output), 0) << output;
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(output.find("/" + std::to_string(i) + ".json invalid"), std::string::npos) << output;
  }
}

}  // namespace
}  // namespace runbook
