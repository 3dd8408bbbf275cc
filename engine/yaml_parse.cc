#include "engine/yaml_parse.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace runbook {
namespace {

// Thrown by the tree builder to stop yaml-cpp's parse after a fatal error (already reported).
struct StopParse {};

// Turns positions in the text into 1-based locations with columns in characters.
class Locator {
 public:
  Locator(std::string file, std::string_view text) : file_(std::move(file)), text_(text) {}

  const std::string& file() const { return file_; }
  std::string_view text() const { return text_; }

  // The location of byte `offset`.
  Location AtOffset(size_t offset) const {
    offset = std::min(offset, text_.size());
    const size_t nl = offset == 0 ? std::string_view::npos : text_.rfind('\n', offset - 1);
    const size_t bol = nl == std::string_view::npos ? 0 : nl + 1;
    const int line = 1 + static_cast<int>(std::count(text_.begin(), text_.begin() + bol, '\n'));
    return Location{file_, line, Column(bol, offset)};
  }

  // yaml-cpp's marks: 0-based line, and a column and a position counted in bytes.
  Location AtMark(const YAML::Mark& m) const {
    if (m.is_null() || m.pos < 0 || m.column < 0 || m.line < 0) return Location{file_, 0, 0};
    const size_t pos = std::min(static_cast<size_t>(m.pos), text_.size());
    const size_t bol = pos >= static_cast<size_t>(m.column) ? pos - m.column : 0;
    return Location{file_, m.line + 1, Column(bol, pos)};
  }

 private:
  // 1 + the number of characters in text_[bol, pos): UTF-8 continuation bytes do not count.
  int Column(size_t bol, size_t pos) const {
    int col = 1;
    for (size_t i = bol; i < pos; ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++col;
    }
    return col;
  }

  std::string file_;
  std::string_view text_;
};

// What YAML allows in a file (its c-printable set) in valid UTF-8; yaml-cpp checks neither. The
// offset of the first byte that breaks the rules and why, or nullopt.
std::optional<std::pair<size_t, const char*>> FindBadCharacter(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return std::pair(i, "control characters are not allowed");
      }
      if (c == 0x7F) return std::pair(i, "control characters are not allowed");
      ++i;
      continue;
    }
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || c >= 0xF8) return std::pair(i, "invalid leading UTF-8 octet");
    if (i + len > text.size()) return std::pair(i, "incomplete UTF-8 octet sequence");
    uint32_t cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      const unsigned char t = static_cast<unsigned char>(text[i + k]);
      if ((t & 0xC0) != 0x80) return std::pair(i, "invalid trailing UTF-8 octet");
      cp = (cp << 6) | (t & 0x3F);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::pair(i, "invalid Unicode character");
    }
    if ((cp >= 0x80 && cp < 0xA0 && cp != 0x85) || cp == 0xFFFE || cp == 0xFFFF) {
      return std::pair(i, "control characters are not allowed");
    }
    i += len;
  }
  return std::nullopt;
}

// The name of the encoding when `text` is UTF-16 or UTF-32 (by byte order mark, or by the zero
// bytes that ASCII text has in those encodings), else nullptr. Such files are refused by name
// rather than as "control characters".
const char* WideEncoding(std::string_view t) {
  auto at = [&](size_t i) { return i < t.size() ? static_cast<unsigned char>(t[i]) : 0x100u; };
  if (at(0) == 0 && at(1) == 0 && at(2) == 0xFE && at(3) == 0xFF) return "UTF-32BE";
  if (at(0) == 0xFF && at(1) == 0xFE && at(2) == 0 && at(3) == 0) return "UTF-32LE";
  if (at(0) == 0xFE && at(1) == 0xFF) return "UTF-16BE";
  if (at(0) == 0xFF && at(1) == 0xFE) return "UTF-16LE";
  if (at(0) == 0 && at(1) == 0 && at(2) == 0 && at(3) != 0 && at(3) < 0x80) return "UTF-32BE";
  if (at(0) != 0 && at(0) < 0x80 && at(1) == 0 && at(2) == 0 && at(3) == 0) return "UTF-32LE";
  if (at(0) == 0 && at(1) != 0 && at(1) < 0x80) return "UTF-16BE";
  if (at(0) != 0 && at(0) < 0x80 && at(1) == 0) return "UTF-16LE";
  return nullptr;
}

// Receives yaml-cpp's events and builds the tree. Fatal errors are reported, then stop the parse
// by throwing StopParse.
class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(const Locator& at, Diagnostics* diags) : at_(at), diags_(diags) {}

  std::optional<DocNode> TakeRoot() { return std::move(root_); }
  // The location where the innermost open flow collection starts, for syntax errors inside it.
  const DocNode* InnermostOpen() const { return stack_.empty() ? nullptr : &stack_.back().node; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) {
      Fatal(at_.AtMark(mark), "a runbook file holds one YAML document; found a second one here");
    }
  }
  void OnDocumentEnd() override {}

  void OnAnchor(const YAML::Mark&, const std::string& name) override { anchor_name_ = name; }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    DocNode n;
    n.loc = at_.AtMark(mark);
    last_pos_ = mark.pos;
    Finish(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const Location loc = at_.AtMark(mark);
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {  // yaml-cpp throws before; kept for safety
      Fatal(loc, "alias refers to no anchor");
    }
    const AnchorEntry& e = it->second;
    if (!e.complete) {
      Fatal(loc, "alias '*" + e.name +
                     "' is inside the node it refers to: recursive aliases are not allowed");
    }
    alias_nodes_ += e.count;
    if (alias_nodes_ > kMaxAliasNodes) {
      Fatal(loc, "aliases expand to more than " + std::to_string(kMaxAliasNodes) +
                     " nodes: the document is too large to expand");
    }
    DocNode copy = e.node;
    copy.loc = loc;
    copy.raw_col = 0;  // the text is not at the alias
    Finish(std::move(copy), YAML::NullAnchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    DocNode n;
    n.loc = at_.AtMark(mark);
    n.kind = DocNode::Kind::kScalar;
    // yaml-cpp's tags: "?" for a plain scalar, "!" for a quoted or block one (or `! x`).
    if (tag == "!" || tag == "tag:yaml.org,2002:str") {
      n.quoted = true;
    } else if (tag != "?") {
      Error(n.loc, "YAML tags are not supported ('" + tag + "')");
    }
    if (value.find('\0') != std::string::npos) {
      Error(n.loc,
            "a NUL character (from an escape such as \\0 or \\x00) is not allowed in a "
            "value");
    }
    n.scalar = value;
    n.raw_col = RawColumn(mark, tag, value);
    last_pos_ = mark.pos;
    Finish(std::move(n), anchor);
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
    YAML::anchor_t anchor = YAML::NullAnchor;
    int key_pos = -1;         // mappings: where the last key's text starts (a byte offset)
    bool drop_value = false;  // the key was refused: leave its value out too
    std::unordered_map<std::string, Location> keys;  // mappings: where each key is
  };
  struct AnchorEntry {
    std::string name;
    bool complete = false;
    size_t count = 0;
    DocNode node;
  };

  void Error(const Location& loc, std::string message) { diags_->Error(loc, std::move(message)); }
  [[noreturn]] void Fatal(const Location& loc, std::string message) {
    Error(loc, std::move(message));
    throw StopParse{};
  }

  // yaml-cpp names an anchor (OnAnchor) just before the event of the node that carries it.
  void Register(YAML::anchor_t anchor) {
    if (anchor == YAML::NullAnchor) return;
    AnchorEntry& e = anchors_[anchor];
    e.name = std::move(anchor_name_);
    anchor_name_.clear();
  }

  void Open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
            DocNode::Kind kind) {
    OpenNode open;
    open.node.kind = kind;
    open.node.loc = at_.AtMark(mark);
    open.anchor = anchor;
    // Registered now, incomplete, so an alias to it from inside is recognised as recursive.
    Register(anchor);
    if (tag != "?" && tag != "!")
      Error(open.node.loc, "YAML tags are not supported ('" + tag + "')");
    if (stack_.size() >= kMaxDepth) {
      Fatal(open.node.loc, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    stack_.push_back(std::move(open));
  }

  void Close() {
    OpenNode open = std::move(stack_.back());
    stack_.pop_back();
    Finish(std::move(open.node), open.anchor);
  }

  // The column of value[0] when `value` is written verbatim on the line of `mark` (a one-line
  // plain scalar, or a quoted one without escapes), else 0. ASCII only: errors inside a value
  // add byte offsets to it.
  int RawColumn(const YAML::Mark& mark, const std::string& tag, const std::string& value) const {
    const std::string_view text = at_.text();
    if (mark.pos < 0 || value.empty() || tag == "tag:yaml.org,2002:str") return 0;
    for (char c : value) {
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\n') return 0;
    }
    const size_t pos = static_cast<size_t>(mark.pos);
    const int col = at_.AtMark(mark).col;
    if (tag == "?") return text.compare(pos, value.size(), value) == 0 ? col : 0;
    if (pos < text.size() && (text[pos] == '\'' || text[pos] == '"') &&
        text.compare(pos + 1, value.size(), value) == 0 && pos + 1 + value.size() < text.size() &&
        text[pos + 1 + value.size()] == text[pos]) {
      return col + 1;
    }
    return 0;
  }

  // Records a completed node as its anchor's target (if any) and appends it to its parent.
  void Finish(DocNode n, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) {
      if (n.kind == DocNode::Kind::kScalar || n.kind == DocNode::Kind::kNull) Register(anchor);
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
    std::vector<DocNode>& children = top.node.children;
    if (top.node.kind == DocNode::Kind::kMap) {
      if (top.drop_value) {
        top.drop_value = false;
        return;
      }
      if (children.size() % 2 == 0) {
        if (!CheckKey(&top, n)) {
          // Reported; the entry is left out so the rest of the file can still be checked.
          top.drop_value = true;
          return;
        }
        top.key_pos = last_pos_;
      } else if (n.kind == DocNode::Kind::kNull && n.loc.line > children.back().loc.line) {
        // An empty value (`key:` then a newline) is marked where the next token starts; a reader
        // looks for it just after the key's colon.
        n.loc = AfterColon(top.key_pos, children.back().loc);
      }
    }
    children.push_back(std::move(n));
  }

  // The location just after the `:` that follows the key written at byte `key_pos` on its line,
  // else `key_loc`.
  Location AfterColon(int key_pos, const Location& key_loc) const {
    const std::string_view text = at_.text();
    for (size_t i = key_pos < 0 ? text.size() : key_pos; i < text.size() && text[i] != '\n'; ++i) {
      if (text[i] == ':' && (i + 1 == text.size() || std::string_view(" \t\r\n").find(
                                                         text[i + 1]) != std::string_view::npos)) {
        return at_.AtOffset(i + 1);
      }
    }
    return key_loc;
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
    auto [it, inserted] = map->keys.emplace(key.scalar, key.loc);
    if (!inserted) {
      Error(key.loc, "duplicate key '" + key.scalar + "' (first at " +
                         std::to_string(it->second.line) + ":" + std::to_string(it->second.col) +
                         ")");
      return false;
    }
    return true;
  }

  const Locator& at_;
  Diagnostics* diags_;
  int documents_ = 0;
  std::vector<OpenNode> stack_;
  std::optional<DocNode> root_;
  std::string anchor_name_;  // from OnAnchor, for the next node
  std::unordered_map<YAML::anchor_t, AnchorEntry> anchors_;
  size_t alias_nodes_ = 0;
  int last_pos_ = -1;  // where the text of the last scalar or null starts (a byte offset)
};

// The first line at or before `line` (1-based) whose indentation holds a tab: {line, col}.
std::pair<int, int> TabIndent(std::string_view text, int upto_line) {
  int line = 1;
  size_t pos = 0;
  while (pos < text.size() && line <= upto_line) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    for (size_t i = pos; i < end && (text[i] == ' ' || text[i] == '\t'); ++i) {
      if (text[i] == '\t') return {line, static_cast<int>(i - pos) + 1};
    }
    pos = end + 1;
    ++line;
  }
  return {0, 0};
}

// The name of the alias written at byte `pos` ("*name"), for yaml-cpp's error about it.
std::string AliasAt(std::string_view text, size_t pos) {
  if (pos >= text.size() || text[pos] != '*') return "";
  const size_t end = text.find_first_of(" \t\r\n,[]{}", pos + 1);
  return std::string(text.substr(pos + 1, end == std::string_view::npos ? end : end - pos - 1));
}

void ReportSyntaxError(const YAML::Exception& e, const Locator& at, const TreeBuilder& builder,
                       Diagnostics* diags) {
  const Location loc = at.AtMark(e.mark);
  if (e.msg == YAML::ErrorMsg::UNKNOWN_ANCHOR) {
    diags->Error(loc, "alias '*" + AliasAt(at.text(), static_cast<size_t>(e.mark.pos)) +
                          "' refers to no anchor");
    return;
  }
  std::string message = e.msg;
  const DocNode* open = builder.InnermostOpen();
  if (open &&
      (e.msg == YAML::ErrorMsg::END_OF_SEQ_FLOW || e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW)) {
    message += std::string(" (the flow ") + (open->IsSeq() ? "sequence" : "mapping") +
               " started at " + std::to_string(open->loc.line) + ":" +
               std::to_string(open->loc.col) + ")";
  }
  auto [tab_line, tab_col] = TabIndent(at.text(), loc.line + 1);
  if (tab_line > 0) {
    diags->Error(Location{at.file(), tab_line, tab_col},
                 "tab character in indentation: YAML indentation must use spaces (the YAML "
                 "parser then failed at " +
                     std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": " + message +
                     ")");
  } else {
    diags->Error(loc, "invalid YAML: " + message);
  }
}

}  // namespace

std::optional<DocNode> ParseYaml(const std::string& path, const std::string& text,
                                 Diagnostics* diags) {
  std::string_view body = text;
  // yaml-cpp skips a UTF-8 byte order mark without counting it in its positions.
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  const Locator at(path, body);
  if (const char* wide = WideEncoding(body)) {
    diags->Error(Location{path, 1, 1}, std::string("the file is ") + wide +
                                           "; runbook files must be UTF-8 (convert it, e.g. "
                                           "iconv -f " +
                                           wide + " -t UTF-8)");
    return std::nullopt;
  }
  if (auto bad = FindBadCharacter(body)) {
    diags->Error(at.AtOffset(bad->first), std::string("invalid YAML: ") + bad->second);
    return std::nullopt;
  }
  std::istringstream in{std::string(body)};
  YAML::Parser parser(in);
  TreeBuilder builder(at, diags);
  try {
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const StopParse&) {
    return std::nullopt;
  } catch (const YAML::DeepRecursion& e) {
    diags->Error(at.AtMark(e.mark), "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    ReportSyntaxError(e, at, builder, diags);
    return std::nullopt;
  }
  std::optional<DocNode> root = builder.TakeRoot();
  if (!root) {
    DocNode empty;
    empty.loc = Location{path, 1, 1};
    root = std::move(empty);
  }
  return root;
}

}  // namespace runbook
