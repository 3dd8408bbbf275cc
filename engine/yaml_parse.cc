#include "engine/yaml_parse.h"

#include <yaml.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace runbook {
namespace {

// Above this many keys, a mapping's duplicate check switches from a scan to a hash map.
constexpr size_t kLinearKeyLimit = 16;

// Receives libyaml's events and builds the tree. A fatal error (reported) sets `fatal_`, after
// which the caller stops feeding events.
class TreeBuilder {
 public:
  TreeBuilder(const std::string* file, ItemSink* sink, Diagnostics* diags)
      : file_(file), sink_(sink), diags_(diags) {}

  std::optional<DocNode> TakeRoot() { return std::move(root_); }
  bool failed() const { return failed_; }
  bool fatal() const { return fatal_; }

  Location Loc(const yaml_mark_t& m) const {
    return Location{file_, static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1};
  }

  void OnAlias(const yaml_mark_t& mark, const char* anchor) {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      return Fatal(Loc(mark), "alias '*" + std::string(anchor) + "' refers to no anchor");
    }
    if (!it->second.complete) {
      return Fatal(Loc(mark), "alias '*" + std::string(anchor) +
                                  "' is inside the node it refers to: recursive aliases are not "
                                  "allowed");
    }
    alias_nodes_ += it->second.count;
    if (alias_nodes_ > kMaxAliasNodes) {
      return Fatal(Loc(mark), "aliases expand to more than " + std::to_string(kMaxAliasNodes) +
                                  " nodes: the document is too large to expand");
    }
    DocNode copy = it->second.node;
    copy.loc = Loc(mark);
    copy.raw_col = 0;  // the text is not at the alias
    Finish(std::move(copy), nullptr);
  }

  void OnScalar(const yaml_event_t& ev) {
    const auto& sc = ev.data.scalar;
    DocNode n;
    n.loc = Loc(ev.start_mark);
    const char* tag = reinterpret_cast<const char*>(sc.tag);
    const char* anchor = reinterpret_cast<const char*>(sc.anchor);
    std::string_view value(reinterpret_cast<const char*>(sc.value), sc.length);
    if (tag == nullptr && sc.style == YAML_PLAIN_SCALAR_STYLE) {
      if (value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL") {
        Finish(std::move(n), anchor);
        return;
      }
    } else if (tag == nullptr || std::string_view(tag) == "!" ||
               std::string_view(tag) == "tag:yaml.org,2002:str") {
      n.quoted = true;
    } else {
      Error(n.loc, "YAML tags are not supported ('" + std::string(tag) + "')");
    }
    n.kind = DocNode::Kind::kScalar;
    n.scalar.assign(value);
    // Verbatim when the source span is the value itself (plain) or the value in quotes, on one
    // line. Marks count characters and `length` bytes, so non-ASCII text is never verbatim here
    // (columns could not be computed by byte offsets anyway).
    const size_t span = ev.end_mark.index - ev.start_mark.index;
    // With properties (`!!str`, `&name`) the node starts at them, not at its text.
    const bool candidate = ev.start_mark.line == ev.end_mark.line && !tag && !anchor;
    if (candidate && sc.style == YAML_PLAIN_SCALAR_STYLE && span == sc.length) {
      n.raw_col = n.loc.col;
    } else if (candidate && span == sc.length + 2 &&
               (sc.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                sc.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)) {
      n.raw_col = n.loc.col + 1;
    }
    Finish(std::move(n), anchor);
  }

  void OnStart(const yaml_mark_t& mark, const yaml_char_t* tag, const yaml_char_t* anchor,
               DocNode::Kind kind) {
    OpenNode open;
    open.node.kind = kind;
    open.node.loc = Loc(mark);
    open.first = scratch_.size();
    if (anchor) {
      open.anchor = reinterpret_cast<const char*>(anchor);
      // Registered now, incomplete, so an alias to it from inside is recognised as recursive.
      anchors_[open.anchor] = AnchorEntry{};
    }
    if (tag && std::string_view(reinterpret_cast<const char*>(tag)) != "!") {
      Error(open.node.loc, "YAML tags are not supported ('" +
                               std::string(reinterpret_cast<const char*>(tag)) + "')");
    }
    if (stack_.size() >= kMaxDepth) {
      return Fatal(open.node.loc, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    // Items of a top-level sequence the sink wants are handed over as they complete.
    if (sink_ && kind == DocNode::Kind::kSeq && stack_.size() == 1 &&
        stack_[0].node.kind == DocNode::Kind::kMap && scratch_.size() % 2 == 1 &&
        sink_->Wants(scratch_.back().scalar)) {
      open.sink_key = scratch_.back().scalar;
    }
    stack_.push_back(std::move(open));
  }

  void OnEnd() {
    OpenNode open = std::move(stack_.back());
    stack_.pop_back();
    // Children were collected on the shared scratch stack: one exact-size allocation here
    // instead of a growing vector per node.
    open.node.children.assign(std::make_move_iterator(scratch_.begin() + open.first),
                              std::make_move_iterator(scratch_.end()));
    scratch_.resize(open.first);
    Finish(std::move(open.node), open.anchor.empty() ? nullptr : open.anchor.c_str());
  }

  void Error(const Location& loc, std::string message) {
    diags_->Error(loc, std::move(message));
    failed_ = true;
  }
  void Fatal(const Location& loc, std::string message) {
    Error(loc, std::move(message));
    fatal_ = true;
  }

 private:
  static constexpr size_t kMaxDepth = 1000;

  struct OpenNode {
    DocNode node;  // children are on scratch_ from index `first` until closed
    size_t first = 0;
    std::string anchor;
    std::string sink_key;     // non-empty: items go to the sink
    size_t sunk = 0;          // items handed to the sink
    bool drop_value = false;  // the key was refused: leave its value out too
    std::unique_ptr<std::unordered_map<std::string, Location>> keys;  // only for big mappings
  };
  struct AnchorEntry {
    bool complete = false;
    size_t count = 0;
    DocNode node;
  };

  // Records a completed node as its anchor's target (if any) and appends it to its parent.
  void Finish(DocNode n, const char* anchor) {
    if (anchor) {
      AnchorEntry& e = anchors_[anchor];  // a redefined anchor applies to later aliases
      e.count = n.CountNodes();
      e.node = n;
      e.complete = true;
    }
    if (stack_.empty()) {
      root_ = std::move(n);
      return;
    }
    OpenNode& top = stack_.back();
    const size_t count = scratch_.size() - top.first;
    if (top.node.kind == DocNode::Kind::kMap) {
      if (top.drop_value) {
        top.drop_value = false;
        return;
      }
      if (count % 2 == 0) {
        if (!CheckKey(&top, n)) {
          // Reported; the entry is left out so the rest of the file can still be checked.
          top.drop_value = true;
          return;
        }
      } else if (n.kind == DocNode::Kind::kNull && n.loc.line > scratch_.back().loc.line) {
        // An empty value (`key:` then a newline) is marked where the next token starts; the key
        // is where a reader looks for it.
        n.loc = scratch_.back().loc;
      }
    } else if (!top.sink_key.empty()) {
      sink_->OnItem(top.sink_key, top.sunk++, std::move(n));
      return;
    }
    scratch_.push_back(std::move(n));
  }

  // Whether `key` may be added to `map`; reports why not.
  bool CheckKey(OpenNode* map, const DocNode& key) {
    if (key.kind != DocNode::Kind::kScalar) {
      Error(key.loc, std::string("a mapping key must be a string, not ") + key.KindName());
      return false;
    }
    if (key.scalar == "<<" && !key.quoted) {
      Error(key.loc,
            "merge keys ('<<') are not supported: write the keys out, or use an alias (*name) "
            "for a whole value");
      return false;
    }
    const Location* first = nullptr;
    if (map->keys) {
      auto [it, inserted] = map->keys->emplace(key.scalar, key.loc);
      if (!inserted) first = &it->second;
    } else {
      for (size_t i = map->first; i < scratch_.size(); i += 2) {
        if (scratch_[i].scalar == key.scalar) {
          first = &scratch_[i].loc;
          break;
        }
      }
      if (!first && (scratch_.size() - map->first) / 2 + 1 > kLinearKeyLimit) {
        map->keys = std::make_unique<std::unordered_map<std::string, Location>>();
        for (size_t i = map->first; i < scratch_.size(); i += 2) {
          map->keys->emplace(scratch_[i].scalar, scratch_[i].loc);
        }
        map->keys->emplace(key.scalar, key.loc);
      }
    }
    if (first) {
      Error(key.loc, "duplicate key '" + key.scalar + "' (first at " + std::to_string(first->line) +
                         ":" + std::to_string(first->col) + ")");
      return false;
    }
    return true;
  }

  const std::string* file_;
  ItemSink* sink_;
  Diagnostics* diags_;
  bool failed_ = false;
  bool fatal_ = false;
  std::vector<OpenNode> stack_;
  std::vector<DocNode> scratch_;  // children of the open nodes, innermost last
  std::optional<DocNode> root_;
  std::unordered_map<std::string, AnchorEntry> anchors_;
  size_t alias_nodes_ = 0;
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

// libyaml's parser, freed on every path.
class Parser {
 public:
  explicit Parser(const std::string& text) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_) {
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size());
    }
  }
  explicit Parser(InputFile* file) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_) yaml_parser_set_input(&parser_, &Parser::ReadFile, file);
  }
  ~Parser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  bool ok() const { return ok_; }
  yaml_parser_t* get() { return &parser_; }

 private:
  // libyaml's read handler: 1 with the bytes read (0 at the end).
  static int ReadFile(void* file, unsigned char* buffer, size_t size, size_t* size_read) {
    *size_read = static_cast<InputFile*>(file)->Read(reinterpret_cast<char*>(buffer), size);
    return 1;
  }

  yaml_parser_t parser_;
  bool ok_ = false;
};

class Event {
 public:
  ~Event() {
    if (valid_) yaml_event_delete(&event_);
  }
  bool Next(yaml_parser_t* parser) {
    if (valid_) yaml_event_delete(&event_);
    valid_ = yaml_parser_parse(parser, &event_) != 0;
    return valid_;
  }
  const yaml_event_t& operator*() const { return event_; }

 private:
  yaml_event_t event_;
  bool valid_ = false;
};

void ReportSyntaxError(const std::string& text, const std::string* file, yaml_parser_t* p,
                       Diagnostics* diags) {
  if (p->error == YAML_MEMORY_ERROR) {
    diags->Error(Location{file, 0, 0}, "out of memory while parsing YAML");
    return;
  }
  const yaml_mark_t& m = p->problem_mark;
  Location loc{file, static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1};
  std::string message = p->problem ? p->problem : "syntax error";
  if (p->error == YAML_READER_ERROR) {
    // Reader errors (bad UTF-8) carry a byte offset, not a line.
    size_t off = std::min(p->problem_offset, text.size());
    loc.line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + off, '\n'));
    size_t bol = text.rfind('\n', off ? off - 1 : 0);
    loc.col = static_cast<int>(off - (bol == std::string::npos || off == 0 ? 0 : bol + 1)) + 1;
    diags->Error(loc, "invalid YAML: " + message);
    return;
  }
  if (p->context) {
    message += std::string(" ") + p->context + " started at " +
               std::to_string(p->context_mark.line + 1) + ":" +
               std::to_string(p->context_mark.column + 1);
  }
  auto [tab_line, tab_col] = TabIndent(text, loc.line + 1);
  if (tab_line > 0) {
    diags->Error(Location{file, tab_line, tab_col},
                 "tab character in indentation: YAML indentation must use spaces (the YAML "
                 "parser then failed at " +
                     std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": " + message +
                     ")");
  } else {
    diags->Error(loc, "invalid YAML: " + message);
  }
}

// The parse, with `text` the whole text when it is at hand, else `file` to read it from.
std::optional<DocNode> Parse(const std::string& path, const std::string* text, InputFile* file,
                             Diagnostics* diags, ItemSink* sink) {
  const std::string* name = InternFileName(path);
  Parser parser = text ? Parser(*text) : Parser(file);
  if (!parser.ok()) {
    diags->Error(Location{name, 0, 0}, "out of memory while parsing YAML");
    return std::nullopt;
  }
  TreeBuilder builder(name, sink, diags);
  Event ev;
  int documents = 0;
  bool done = false;
  while (!done && !builder.fatal()) {
    if (!ev.Next(parser.get())) {
      if (text) {
        ReportSyntaxError(*text, name, parser.get(), diags);
      } else {
        // The text explains the error (a tab in the indentation, a line for a byte offset).
        const std::string whole = file->Rewind() ? file->ReadRest() : "";
        ReportSyntaxError(whole, name, parser.get(), diags);
      }
      return std::nullopt;
    }
    const yaml_event_t& e = *ev;
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        if (++documents == 2) {
          builder.Fatal(builder.Loc(e.start_mark),
                        "a runbook file holds one YAML document; found a second one here");
        }
        break;
      case YAML_SCALAR_EVENT:
        builder.OnScalar(e);
        break;
      case YAML_ALIAS_EVENT:
        builder.OnAlias(e.start_mark, reinterpret_cast<const char*>(e.data.alias.anchor));
        break;
      case YAML_SEQUENCE_START_EVENT:
        builder.OnStart(e.start_mark, e.data.sequence_start.tag, e.data.sequence_start.anchor,
                        DocNode::Kind::kSeq);
        break;
      case YAML_MAPPING_START_EVENT:
        builder.OnStart(e.start_mark, e.data.mapping_start.tag, e.data.mapping_start.anchor,
                        DocNode::Kind::kMap);
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        builder.OnEnd();
        break;
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      default:
        break;
    }
  }
  if (builder.fatal()) return std::nullopt;
  std::optional<DocNode> root = builder.TakeRoot();
  if (!root) {
    DocNode empty;
    empty.loc = Location{name, 1, 1};
    root = std::move(empty);
  }
  return root;
}

}  // namespace

std::optional<DocNode> ParseYaml(const std::string& path, const std::string& text,
                                 Diagnostics* diags, ItemSink* sink) {
  return Parse(path, &text, nullptr, diags, sink);
}

std::optional<DocNode> ParseYaml(const std::string& path, InputFile* file, Diagnostics* diags,
                                 ItemSink* sink) {
  return Parse(path, nullptr, file, diags, sink);
}

}  // namespace runbook
