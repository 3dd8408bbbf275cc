#include "engine/journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "engine/crc32.h"

namespace runbook {
namespace {

using nlohmann::json;

class JournalTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "journal_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    path_ = dir_ + "/journal.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void Spit(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }

  // A journal of `n` records of varied sizes, returning its bytes.
  std::string WriteSample(int n) {
    auto journal = Journal::Create(path_);
    EXPECT_TRUE(journal.ok()) << journal.message();
    for (int i = 0; i < n; ++i) {
      json r{{"type", "step_data"},
             {"step", "s" + std::to_string(i)},
             {"value", std::string(static_cast<size_t>(i * 7), 'x')}};
      EXPECT_TRUE(journal.value()->Append(r).ok());
    }
    return Slurp(path_);
  }

  std::string dir_;
  std::string path_;
};

TEST(Crc32Test, KnownVector) {
  EXPECT_EQ(Crc32("123456789"), 0xcbf43926u);
  EXPECT_EQ(Crc32Hex("123456789"), "cbf43926");
  EXPECT_EQ(Crc32Hex(""), "00000000");
}

TEST(TimestampTest, FormatsUtcWithMilliseconds) {
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795585382007));
  EXPECT_EQ(FormatTimestamp(t), "2026-11-25T05:43:02.007Z");
  EXPECT_EQ(ParseTimestampMs("2026-11-25T05:43:02.007Z"), 1795585382007);
  EXPECT_EQ(ParseTimestampMs("2026-11-25T05:43:02Z"), 1795585382000);
  EXPECT_EQ(ParseTimestampMs("2026-11-25T05:43:02.5Z"), 1795585382500);
  EXPECT_EQ(ParseTimestampMs("2026-11-25T05:43:02.007"), std::nullopt);
  EXPECT_EQ(ParseTimestampMs("2026-11-25 05:43:02Z"), std::nullopt);
  EXPECT_EQ(ParseTimestampMs(""), std::nullopt);
}

TEST_F(JournalTest, RoundTripAddsSeqTimestampAndFormat) {
  {
    auto journal = Journal::Create(path_);
    ASSERT_TRUE(journal.ok()) << journal.message();
    EXPECT_EQ(journal.value()->next_seq(), 1);
    ASSERT_TRUE(journal.value()->Append({{"type", "run_started"}, {"run_id", "r1"}}).ok());
    ASSERT_TRUE(journal.value()->Append({{"type", "run_finished"}, {"exit_code", 0}}).ok());
    EXPECT_EQ(journal.value()->next_seq(), 3);
  }
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto contents = ReadJournal(path_);
  ASSERT_TRUE(contents.ok()) << contents.message();
  EXPECT_EQ(contents->warning, "");
  ASSERT_EQ(contents->records.size(), 2u);
  const json& first = contents->records[0];
  EXPECT_EQ(first["type"], "run_started");
  EXPECT_EQ(first["run_id"], "r1");
  EXPECT_EQ(first["seq"], 1);
  EXPECT_EQ(first["format"], kJournalFormat);
  EXPECT_FALSE(contents->records[1].contains("format"));
  EXPECT_EQ(contents->records[1]["seq"], 2);
  const std::regex ts(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  EXPECT_TRUE(std::regex_match(first["ts"].get<std::string>(), ts)) << first["ts"];

  // The bytes on disk are exactly "crc json\n" per record.
  std::string data = Slurp(path_);
  std::string line1 = data.substr(0, data.find('\n'));
  EXPECT_EQ(line1.substr(0, 8), Crc32Hex(line1.substr(9)));
  EXPECT_EQ(line1[8], ' ');
  EXPECT_EQ(json::parse(line1.substr(9)), first);
}

TEST_F(JournalTest, WriteThenSyncIsAnAppendInTwoHalves) {
  auto journal = Journal::Create(path_);
  ASSERT_TRUE(journal.ok()) << journal.message();
  ASSERT_TRUE(journal.value()->Append({{"type", "run_started"}}).ok());
  ASSERT_TRUE(journal.value()->Write({{"type", "step_started"}, {"step", "a"}}).ok());
  // Written (readable, and kept if the engine is killed) before it is synced.
  auto before_sync = ReadJournal(path_);
  ASSERT_TRUE(before_sync.ok()) << before_sync.message();
  ASSERT_EQ(before_sync->records.size(), 2u);
  EXPECT_EQ(before_sync->records[1]["seq"], 2);
  ASSERT_TRUE(journal.value()->Sync().ok());
  ASSERT_TRUE(journal.value()->Append({{"type", "step_finished"}, {"step", "a"}}).ok());
  EXPECT_EQ(journal.value()->next_seq(), 4);
  EXPECT_FALSE(journal.value()->Write(json::array({1})).ok());
  auto contents = ReadJournal(path_);
  ASSERT_TRUE(contents.ok()) << contents.message();
  ASSERT_EQ(contents->records.size(), 3u);
  EXPECT_EQ(contents->records[2]["seq"], 3);
}

TEST_F(JournalTest, CreateRefusesAnExistingFile) {
  Spit(path_, "");
  auto journal = Journal::Create(path_);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.message(), "cannot create journal " + path_ + ": File exists");
}

TEST_F(JournalTest, ReadMissingFileIsAnError) {
  auto contents = ReadJournal(path_);
  ASSERT_FALSE(contents.ok());
  EXPECT_EQ(contents.message(), "cannot open journal " + path_ + ": No such file or directory");
}

TEST_F(JournalTest, AppendRejectsNonObjects) {
  auto journal = Journal::Create(path_);
  ASSERT_TRUE(journal.ok());
  EXPECT_FALSE(journal.value()->Append(json::array({1, 2})).ok());
  EXPECT_TRUE(journal.value()->Append({{"type", "x"}}).ok());  // not poisoned by the refusal
}

TEST_F(JournalTest, OpenForAppendContinuesTheSequence) {
  WriteSample(3);
  std::string warning = "stale";
  auto journal = Journal::OpenForAppend(path_, &warning);
  ASSERT_TRUE(journal.ok()) << journal.message();
  EXPECT_EQ(warning, "");
  EXPECT_EQ(journal.value()->next_seq(), 4);
  ASSERT_TRUE(journal.value()->Append({{"type", "run_resumed"}}).ok());
  auto contents = ReadJournal(path_);
  ASSERT_TRUE(contents.ok()) << contents.message();
  ASSERT_EQ(contents->records.size(), 4u);
  EXPECT_EQ(contents->records[3]["seq"], 4);
  EXPECT_EQ(contents->records[3]["type"], "run_resumed");
}

// As ninja's DepsLogTest.Truncated: a crash can cut the file at any byte. Every prefix must read
// back as the records whose newline made it, with a warning exactly when a partial line is left,
// and must accept appends again after OpenForAppend.
TEST_F(JournalTest, EveryTruncationReloads) {
  const std::string full = WriteSample(4);  // ~400 bytes; each size costs a few fsyncs
  std::vector<size_t> line_ends;            // offset just past each newline
  for (size_t i = 0; i < full.size(); ++i) {
    if (full[i] == '\n') line_ends.push_back(i + 1);
  }
  ASSERT_EQ(line_ends.size(), 4u);
  const std::string cut = dir_ + "/cut.jsonl";
  for (size_t size = 0; size <= full.size(); ++size) {
    SCOPED_TRACE("size " + std::to_string(size));
    size_t complete = 0;
    while (complete < line_ends.size() && line_ends[complete] <= size) ++complete;
    const size_t valid = complete ? line_ends[complete - 1] : 0;
    Spit(cut, full.substr(0, size));

    auto contents = ReadJournal(cut);
    ASSERT_TRUE(contents.ok()) << contents.message();
    ASSERT_EQ(contents->records.size(), complete);
    if (size == valid) {
      EXPECT_EQ(contents->warning, "");
    } else {
      EXPECT_EQ(contents->warning,
                "journal " + cut + ": ignoring a torn tail of " + std::to_string(size - valid) +
                    (size - valid == 1 ? " byte" : " bytes") + " at byte " + std::to_string(valid) +
                    " (a record cut off by a crash; it was never committed)");
    }

    std::string warning;
    auto journal = Journal::OpenForAppend(cut, &warning);
    ASSERT_TRUE(journal.ok()) << journal.message();
    EXPECT_EQ(warning.empty(), size == valid);
    EXPECT_EQ(Slurp(cut), full.substr(0, valid));  // the torn tail is gone from the file
    ASSERT_TRUE(journal.value()->Append({{"type", "run_resumed"}}).ok());
    journal.value().reset();
    auto after = ReadJournal(cut);
    ASSERT_TRUE(after.ok()) << after.message();
    EXPECT_EQ(after->warning, "");
    ASSERT_EQ(after->records.size(), complete + 1);
    EXPECT_EQ(after->records.back()["seq"], static_cast<int>(complete + 1));
    // A record that starts a journal carries the format, wherever the cut fell.
    EXPECT_EQ(after->records.front()["format"], kJournalFormat);
  }
}

TEST_F(JournalTest, BadChecksumInTheMiddleIsRefused) {
  std::string data = WriteSample(4);
  size_t second = data.find('\n') + 1;
  data[second + 20] ^= 0x01;  // a bit flip inside record 2's JSON
  Spit(path_, data);
  auto contents = ReadJournal(path_);
  ASSERT_FALSE(contents.ok());
  EXPECT_EQ(contents.message(), "journal " + path_ + " is corrupt: the record at byte " +
                                    std::to_string(second) +
                                    " is damaged but valid records follow it (line 3); refusing "
                                    "to guess what happened");
  std::string warning;
  auto journal = Journal::OpenForAppend(path_, &warning);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.message(), contents.message());
  EXPECT_EQ(Slurp(path_), data);  // refused without touching the file
}

TEST_F(JournalTest, BadChecksumOnTheLastLineIsATornTail) {
  std::string data = WriteSample(3);
  data[data.size() - 3] ^= 0x01;
  Spit(path_, data);
  auto contents = ReadJournal(path_);
  ASSERT_TRUE(contents.ok()) << contents.message();
  EXPECT_EQ(contents->records.size(), 2u);
  EXPECT_NE(contents->warning, "");
}

TEST_F(JournalTest, NulFilledTailIsTorn) {
  const std::string data = WriteSample(3);
  for (const std::string& tail : {std::string(8, '\0'), std::string(4096, '\0'),
                                  std::string(100, '\0') + "\n" + std::string(50, '\0')}) {
    SCOPED_TRACE(tail.size());
    Spit(path_, data + tail);
    auto contents = ReadJournal(path_);
    ASSERT_TRUE(contents.ok()) << contents.message();
    EXPECT_EQ(contents->records.size(), 3u);
    EXPECT_NE(contents->warning.find("torn tail of " + std::to_string(tail.size()) + " bytes"),
              std::string::npos)
        << contents->warning;
  }
}

TEST_F(JournalTest, NulBlockFollowedByRecordsIsRefused) {
  std::string data = WriteSample(3);
  size_t second = data.find('\n') + 1;
  size_t second_end = data.find('\n', second);
  data.replace(second, second_end - second, std::string(second_end - second, '\0'));
  Spit(path_, data);
  EXPECT_FALSE(ReadJournal(path_).ok());
}

// Issue 15: bytes from which no first record can be read are damage, never "no run" (which would
// start over and repeat steps that had succeeded); only a first record cut off before its
// newline is a run that never started.
TEST_F(JournalTest, UnreadableFromTheFirstRecordIsRefused) {
  const std::string data = WriteSample(3);
  std::string bad_crc = data.substr(0, data.find('\n') + 1);
  bad_crc[0] = bad_crc[0] == '0' ? '1' : '0';
  for (const std::string& damage :
       {std::string(data.size(), '\0'), std::string(8, '\0'), std::string("garbage\n"),
        std::string("not a journal at all"), bad_crc}) {
    SCOPED_TRACE(testing::PrintToString(damage.substr(0, 16)));
    Spit(path_, damage);
    auto contents = ReadJournal(path_);
    ASSERT_FALSE(contents.ok());
    EXPECT_NE(contents.message().find("journal " + path_ + " cannot be read from its first record"),
              std::string::npos)
        << contents.message();
    std::string warning;
    EXPECT_FALSE(Journal::OpenForAppend(path_, &warning).ok());
    EXPECT_EQ(Slurp(path_), damage);  // refused without touching the file
  }
  EXPECT_FALSE(ReadJournalStartMs(path_).has_value());
}

TEST_F(JournalTest, StartMsIsTheFirstRecordsTimestamp) {
  const std::string data = WriteSample(3);
  auto contents = ReadJournal(path_);
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(ReadJournalStartMs(path_),
            ParseTimestampMs(contents->records.front()["ts"].get<std::string>()));
  Spit(path_, data.substr(0, data.find('\n')));  // no newline: not a committed record
  EXPECT_FALSE(ReadJournalStartMs(path_).has_value());
}

TEST_F(JournalTest, SequenceGapIsRefused) {
  std::string data = WriteSample(2);
  data += EncodeJournalLine({{"type", "step_data"}, {"seq", 5}});
  Spit(path_, data);
  auto contents = ReadJournal(path_);
  ASSERT_FALSE(contents.ok());
  EXPECT_EQ(contents.message(), "journal " + path_ + " is corrupt: line 3 (byte " +
                                    std::to_string(data.rfind('\n', data.size() - 2) + 1) +
                                    ") has seq 5, expected 3");
}

TEST_F(JournalTest, OtherFormatIsRefused) {
  Spit(path_, EncodeJournalLine({{"type", "run_started"}, {"seq", 1}, {"format", 2}}));
  auto contents = ReadJournal(path_);
  ASSERT_FALSE(contents.ok());
  EXPECT_EQ(contents.message(), "journal " + path_ + " has format 2; this runbook reads format 1");
}

TEST_F(JournalTest, EncodeDecodeEncodeIsIdentity) {
  const std::vector<json> records = {
      {{"type", "guard"},
       {"seq", 1},
       {"format", 1},
       {"summary", "quote \" backslash \\ tab \t"},
       {"evidence", {"line\none", "é ü 中文 🙂", std::string("nul\0byte", 8)}}},
      {{"type", "step_finished"},
       {"seq", 2},
       {"duration_ms", 1234567890123},
       {"exit_code", -1},
       {"ratio", 0.1},
       {"nested", {{"b", {1, 2, 3}}, {"a", nullptr}}},
       {"held", false}},
  };
  std::string file;
  for (const json& r : records) {
    std::string line = EncodeJournalLine(r);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << "only the commit marker";
    file += line;
  }
  Spit(path_, file);
  auto contents = ReadJournal(path_);
  ASSERT_TRUE(contents.ok()) << contents.message();
  ASSERT_EQ(contents->records.size(), records.size());
  std::string again;
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(contents->records[i], records[i]);
    again += EncodeJournalLine(contents->records[i]);
  }
  EXPECT_EQ(again, file);
}

TEST_F(JournalTest, InvalidUtf8IsReplacedNotFatal) {
  auto journal = Journal::Create(path_);
  ASSERT_TRUE(journal.ok());
  ASSERT_TRUE(journal.value()->Append({{"type", "guard"}, {"summary", "bad \xff\xfe here"}}).ok());
  auto contents = ReadJournal(path_);
  ASSERT_TRUE(contents.ok()) << contents.message();
  EXPECT_EQ(contents->records[0]["summary"], "bad \xEF\xBF\xBD\xEF\xBF\xBD here");
}

TEST_F(JournalTest, ConcurrentAppendsAreNumberedInFileOrder) {
  auto journal = Journal::Create(path_);
  ASSERT_TRUE(journal.ok());
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(journal.value()->Append({{"type", "step_data"}, {"t", t}, {"i", i}}).ok());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  auto contents = ReadJournal(path_);  // also checks seq == line number
  ASSERT_TRUE(contents.ok()) << contents.message();
  ASSERT_EQ(contents->records.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<int> next(kThreads, 0);
  for (const json& r : contents->records) {
    int t = r["t"];
    EXPECT_EQ(r["i"], next[t]++) << "each thread's records keep their order";
  }
}

// A failed write must poison the journal: a retry could append after a partial line, burying it
// mid-file. RLIMIT_FSIZE makes write() fail for real (EFBIG), in a child so the limit stays there.
TEST_F(JournalTest, WriteFailurePoisonsTheJournal) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {1000, 1000};
    setrlimit(RLIMIT_FSIZE, &limit);
    auto journal = Journal::Create(path_);
    if (!journal.ok()) _exit(10);
    int appended = 0;
    while (
        journal.value()->Append({{"type", "step_data"}, {"value", std::string(300, 'v')}}).ok()) {
      if (++appended > 10) _exit(11);
    }
    Status again = journal.value()->Append({{"type", "x"}});
    if (again.ok()) _exit(12);
    if (again.message().find("unusable after an earlier error: cannot write journal") ==
        std::string::npos) {
      _exit(13);
    }
    _exit(appended);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  const int appended = WEXITSTATUS(status);
  ASSERT_GE(appended, 1);
  ASSERT_LT(appended, 10) << "child failed with code " << appended;
  auto contents = ReadJournal(path_);
  ASSERT_TRUE(contents.ok()) << contents.message();
  EXPECT_EQ(contents->records.size(), static_cast<size_t>(appended));
  EXPECT_NE(contents->warning, "") << "the partial record the limit cut off is a torn tail";
}

// kill -9 at arbitrary moments, then resume: every append the writer saw succeed is still there,
// and the journal always reopens and continues its sequence.
TEST_F(JournalTest, SurvivesKillNineAtAnyMomentAndResumes) {
  ASSERT_TRUE(Journal::Create(path_).ok());
  std::mt19937 rng(12345);
  int64_t acked = 0;  // the highest seq a writer reported as appended
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int acks[2];
    ASSERT_EQ(pipe(acks), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(acks[0]);
      auto journal = Journal::OpenForAppend(path_, nullptr);
      if (!journal.ok()) _exit(1);
      for (;;) {
        int64_t seq = journal.value()->next_seq();
        json r{{"type", "step_data"}, {"value", std::string(static_cast<size_t>(seq % 300), 'v')}};
        if (!journal.value()->Append(r).ok()) _exit(2);
        if (write(acks[1], &seq, sizeof seq) != sizeof seq) _exit(3);
      }
    }
    close(acks[1]);
    // Kill at a random moment once the writer is under way (the first ack), whatever the load.
    int64_t seq = 0;
    ASSERT_EQ(read(acks[0], &seq, sizeof seq), static_cast<ssize_t>(sizeof seq));
    acked = std::max(acked, seq);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself with " << status;
    while (read(acks[0], &seq, sizeof seq) == sizeof seq) acked = std::max(acked, seq);
    close(acks[0]);

    auto contents = ReadJournal(path_);
    ASSERT_TRUE(contents.ok()) << contents.message();
    EXPECT_GE(static_cast<int64_t>(contents->records.size()), acked)
        << "a committed record was lost";
  }
  EXPECT_GE(acked, 12) << "every writer appended at least once";
}

// Not a pass/fail check of speed (the disk decides), but the figure the executor's overhead per
// step is made of: printed and recorded in the test XML.
TEST_F(JournalTest, MeasureAppendCost) {
  auto journal = Journal::Create(path_);
  ASSERT_TRUE(journal.ok());
  constexpr int kRecords = 200;
  json record{{"type", "step_finished"}, {"step", "dump-small-tables"},
              {"outcome", "success"},    {"attempt", 1},
              {"exit_code", 0},          {"duration_ms", 1234}};
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i) ASSERT_TRUE(journal.value()->Append(record).ok());
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
      kRecords;
  std::printf("Append+fdatasync: %.1f us per record (%d records, %s)\n", us, kRecords,
              dir_.c_str());
  RecordProperty("append_us_per_record", std::to_string(us));
}

}  // namespace
}  // namespace runbook
