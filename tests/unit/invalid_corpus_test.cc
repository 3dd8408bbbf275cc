// Runs the loader's half of the invalid-runbook corpus (tests/invalid/*.yaml) through
// ParseRunbook, ParseInventory and ResolveParams, and checks each expected error's place and
// text. Files whose problems are cross-references (found by engine/validate, not the loader)
// load cleanly here and are left to tests/e2e/invalid_corpus.sh.
//
// Header lines of a corpus file:
//   # expect: LINE:COL: TEXT          an error in this file containing TEXT
//   # expect-in: PATH:LINE:COL: TEXT  an error in another file (an inventory), PATH from the repo
//   root # expect-set: TEXT                an error about a --set value # args: -i PATH --set K=V
//   ...     extra command-line arguments
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/params.h"
#include "engine/parse.h"
#include "steps/registry.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;

const std::string kRoot = RUNBOOK_SOURCE_DIR;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Expect {
  std::string file;  // as the loader names it
  int line = 0;
  int col = 0;
  std::string text;
};

// "LINE:COL: TEXT" -> Expect.
bool ParsePlace(const std::string& s, const std::string& file, Expect* e) {
  size_t c1 = s.find(':');
  size_t c2 = s.find(':', c1 + 1);
  if (c1 == std::string::npos || c2 == std::string::npos || s.compare(c2, 2, ": ") != 0) {
    return false;
  }
  e->file = file;
  e->line = std::stoi(s.substr(0, c1));
  e->col = std::stoi(s.substr(c1 + 1, c2 - c1 - 1));
  e->text = s.substr(c2 + 2);
  return true;
}

struct CorpusCase {
  std::vector<Expect> expects;
  std::vector<std::string> inventories;
  std::vector<std::pair<std::string, std::string>> sets;
};

CorpusCase ReadHeader(const std::string& path, const std::string& text) {
  CorpusCase c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line) && line.rfind("#", 0) == 0) {
    auto value = [&](const std::string& prefix) -> std::optional<std::string> {
      if (line.rfind(prefix, 0) != 0) return std::nullopt;
      return line.substr(prefix.size());
    };
    Expect e;
    if (auto v = value("# expect: ")) {
      EXPECT_TRUE(ParsePlace(*v, path, &e)) << path << ": bad header: " << line;
      c.expects.push_back(e);
    } else if (auto v = value("# expect-in: ")) {
      size_t colon = v->find(':');
      EXPECT_NE(colon, std::string::npos) << line;
      if (colon == std::string::npos) continue;
      EXPECT_TRUE(ParsePlace(v->substr(colon + 1), kRoot + "/" + v->substr(0, colon), &e)) << line;
      c.expects.push_back(e);
    } else if (auto v = value("# expect-set: ")) {
      c.expects.push_back({"--set", 0, 0, *v});
    } else if (auto v = value("# args: ")) {
      std::istringstream args(*v);
      std::string a;
      while (args >> a) {
        std::string operand;
        args >> operand;
        if (a == "-i") {
          c.inventories.push_back(kRoot + "/" + operand);
        } else if (a == "--set") {
          size_t eq = operand.find('=');
          c.sets.emplace_back(operand.substr(0, eq), operand.substr(eq + 1));
        } else {
          ADD_FAILURE() << path << ": unknown argument " << a;
        }
      }
    }
  }
  return c;
}

TEST(InvalidCorpusTest, LoaderReportsEachExpectedError) {
  int checked = 0;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kRoot + "/tests/invalid")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    const std::string path = p.string();
    const std::string text = ReadFile(path);
    CorpusCase c = ReadHeader(path, text);
    EXPECT_FALSE(c.expects.empty()) << path << ": no '# expect' header";
    Diagnostics d;
    std::optional<Runbook> rb = ParseRunbook(path, text, BuiltinKinds(), &d);
    std::vector<Inventory> invs;
    for (const std::string& i : c.inventories) {
      if (auto inv = ParseInventory(i, ReadFile(i), &d)) invs.push_back(std::move(*inv));
    }
    if (rb && d.ok()) {
      for (const Inventory& inv : invs) ApplyInventory(inv, &*rb);
      ResolveParams(*rb, invs, c.sets, RequireParams::kYes, &d);
    }
    if (d.ok()) continue;  // a cross-reference case, for engine/validate
    ++checked;
    std::string got;
    for (const Diagnostic& e : d.errors()) got += "  " + e.ToString() + "\n";
    for (const Expect& e : c.expects) {
      bool found = std::any_of(d.errors().begin(), d.errors().end(), [&](const Diagnostic& g) {
        return g.loc.file == e.file && g.loc.line == e.line && g.loc.col == e.col &&
               g.message.find(e.text) != std::string::npos;
      });
      EXPECT_TRUE(found) << p.filename().string() << ": expected " << e.line << ":" << e.col << ": "
                         << e.text << "\ngot:\n"
                         << got;
    }
  }
  EXPECT_GE(checked, 30);
}

}  // namespace
}  // namespace runbook
