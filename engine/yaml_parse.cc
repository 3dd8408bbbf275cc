#include "engine/yaml_parse.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <exception>
#include <memory>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace runbook {
namespace {

// Thrown inside the event handler to stop parsing after a fatal error (already reported).
struct Abort {};

// Above this many keys, a mapping's duplicate check switches from a scan to a hash map.
constexpr size_t kLinearKeyLimit = 16;

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(const std::string* file, Diagnostics* diags) : file_(file), diags_(diags) {}

  std::optional<DocNode> TakeRoot() { return std::move(root_); }
  bool failed() const { return failed_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_anchor_ = name; }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    DocNode n;
    n.loc = Loc(mark);
    Add(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor >= anchors_.size() || !anchors_[anchor].complete) {
      Fatal(Loc(mark), "alias refers to a node that contains it: recursive aliases are not allowed");
    }
    const AnchorEntry& e = anchors_[anchor];
    alias_nodes_ += e.count;
    if (alias_nodes_ > kMaxAliasNodes) {
      Fatal(Loc(mark), "aliases expand to more than " + std::to_string(kMaxAliasNodes) +
                           " nodes: the document is too large to expand");
    }
    DocNode copy = e.node;
    copy.loc = Loc(mark);
    Add(std::move(copy), YAML::NullAnchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    DocNode n;
    n.loc = Loc(mark);
    if (tag == "?") {
      if (value == "~" || value == "null" || value == "Null" || value == "NULL") {
        Add(std::move(n), anchor);
        return;
      }
    } else if (tag == "!" || tag == "tag:yaml.org,2002:str") {
      n.quoted = true;
    } else {
      Error(n.loc, "YAML tags are not supported ('" + tag + "')");
    }
    n.kind = DocNode::Kind::kScalar;
    n.scalar = value;
    Add(std::move(n), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, tag, anchor, DocNode::Kind::kSeq);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, tag, anchor, DocNode::Kind::kMap);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct OpenNode {
    DocNode node;
    YAML::anchor_t anchor;
    std::unique_ptr<std::unordered_map<std::string, Location>> keys;  // only for big mappings
  };
  struct AnchorEntry {
    std::string name;
    bool complete = false;
    size_t count = 0;
    DocNode node;
  };

  Location Loc(const YAML::Mark& m) const { return Location{file_, m.line + 1, m.column + 1}; }

  void Error(const Location& loc, std::string message) {
    diags_->Error(loc, std::move(message));
    failed_ = true;
  }
  [[noreturn]] void Fatal(const Location& loc, std::string message) {
    Error(loc, std::move(message));
    throw Abort{};
  }

  void NoteAnchor(YAML::anchor_t anchor) {
    if (anchor == YAML::NullAnchor) return;
    if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
    anchors_[anchor] = AnchorEntry{};
    anchors_[anchor].name = std::move(pending_anchor_);
    pending_anchor_.clear();
  }

  void Open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
            DocNode::Kind kind) {
    NoteAnchor(anchor);
    OpenNode open;
    open.node.kind = kind;
    open.node.loc = Loc(mark);
    open.anchor = anchor;
    if (tag != "?" && !tag.empty()) Error(open.node.loc, "YAML tags are not supported ('" + tag + "')");
    stack_.push_back(std::move(open));
  }

  void Close() {
    OpenNode open = std::move(stack_.back());
    stack_.pop_back();
    open.node.children.shrink_to_fit();
    Finish(std::move(open.node), open.anchor);
  }

  void Add(DocNode n, YAML::anchor_t anchor) {
    NoteAnchor(anchor);
    Finish(std::move(n), anchor);
  }

  // Records a completed node as the anchor's target (if any) and appends it to its parent.
  void Finish(DocNode n, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) {
      AnchorEntry& e = anchors_[anchor];
      e.count = n.CountNodes();
      e.node = n;
      e.complete = true;
    }
    if (stack_.empty()) {
      root_ = std::move(n);
      return;
    }
    OpenNode& top = stack_.back();
    if (top.node.kind == DocNode::Kind::kMap) {
      std::vector<DocNode>& c = top.node.children;
      if (c.size() % 2 == 0) {
        CheckKey(&top, n);
      } else if (n.kind == DocNode::Kind::kNull && n.loc.line > c.back().loc.line) {
        // An empty value (`key:` then a newline) is marked where the next token starts; the key
        // is where a reader looks for it.
        n.loc = c.back().loc;
      }
    }
    top.node.children.push_back(std::move(n));
  }

  void CheckKey(OpenNode* map, const DocNode& key) {
    if (key.kind != DocNode::Kind::kScalar) {
      Error(key.loc, std::string("a mapping key must be a string, not ") + key.KindName());
      return;
    }
    if (key.scalar == "<<" && !key.quoted) {
      Error(key.loc,
            "merge keys ('<<') are not supported: write the keys out, or use an alias (*name) "
            "for a whole value");
      return;
    }
    std::vector<DocNode>& c = map->node.children;
    const Location* first = nullptr;
    if (map->keys) {
      auto [it, inserted] = map->keys->emplace(key.scalar, key.loc);
      if (!inserted) first = &it->second;
    } else {
      for (size_t i = 0; i < c.size(); i += 2) {
        if (c[i].scalar == key.scalar) {
          first = &c[i].loc;
          break;
        }
      }
      if (!first && c.size() / 2 + 1 > kLinearKeyLimit) {
        map->keys = std::make_unique<std::unordered_map<std::string, Location>>();
        for (size_t i = 0; i < c.size(); i += 2) map->keys->emplace(c[i].scalar, c[i].loc);
        map->keys->emplace(key.scalar, key.loc);
      }
    }
    if (first) {
      Error(key.loc, "duplicate key '" + key.scalar + "' (first at " + std::to_string(first->line) +
                         ":" + std::to_string(first->col) + ")");
    }
  }

  const std::string* file_;
  Diagnostics* diags_;
  bool failed_ = false;
  std::vector<OpenNode> stack_;
  std::optional<DocNode> root_;
  std::vector<AnchorEntry> anchors_;
  std::string pending_anchor_;
  size_t alias_nodes_ = 0;
};

// Stops at the start of a second document.
class SecondDocument : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    mark_ = mark;
    throw Abort{};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  YAML::Mark mark_;
};

// The first line at or before `line` (1-based) whose indentation holds a tab: {line, col}.
std::pair<int, int> TabIndent(const std::string& text, int upto_line) {
  int line = 1;
  size_t pos = 0;
  while (pos < text.size() && line <= upto_line) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    for (size_t i = pos; i < end && (text[i] == ' ' || text[i] == '\t'); ++i) {
      if (text[i] == '\t') return {line, static_cast<int>(i - pos) + 1};
    }
    pos = end + 1;
    ++line;
  }
  return {0, 0};
}

}  // namespace

std::optional<DocNode> ParseYaml(const std::string& path, const std::string& text,
                                 Diagnostics* diags) {
  const std::string* file = InternFileName(path);
  TreeBuilder builder(file, diags);
  std::istringstream in(text);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) {
      DocNode empty;
      empty.loc = Location{file, 1, 1};
      return empty;
    }
    SecondDocument second;
    try {
      parser.HandleNextDocument(second);
    } catch (const Abort&) {
      diags->Error(Location{file, second.mark_.line + 1, second.mark_.column + 1},
                   "a runbook file holds one YAML document; found a second one here");
      return std::nullopt;
    }
  } catch (const Abort&) {
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    Location loc{file, e.mark.is_null() ? 0 : e.mark.line + 1,
                 e.mark.is_null() ? 0 : e.mark.column + 1};
    auto [tab_line, tab_col] = TabIndent(text, loc.line + 1);
    if (tab_line > 0) {
      diags->Error(Location{file, tab_line, tab_col},
                   "tab character in indentation: YAML indentation must use spaces (the YAML "
                   "parser then failed at " +
                       std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": " + e.msg +
                       ")");
    } else {
      diags->Error(loc, "invalid YAML: " + e.msg);
    }
    return std::nullopt;
  } catch (const std::exception& e) {
    diags->Error(Location{file, 0, 0}, std::string("cannot parse YAML: ") + e.what());
    return std::nullopt;
  }
  if (builder.failed()) return std::nullopt;
  std::optional<DocNode> root = builder.TakeRoot();
  if (!root) {
    DocNode empty;
    empty.loc = Location{file, 1, 1};
    root = std::move(empty);
  }
  return root;
}

}  // namespace runbook
