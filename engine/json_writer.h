// Writing JSON text directly, byte for byte as nlohmann::json::dump() writes the same value.
//
// Plans of 100k steps are 77 MB of JSON: built as a nlohmann::json tree first they took most of
// `runbook plan`'s time and 900 MB. The plan (engine/plan.h) is written with JsonWriter instead,
// and its layout stays the one nlohmann::json gives (schemas/plan.schema.json, and `run --plan`
// reads plans back with nlohmann::json).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace runbook {

// Appends `s` as a JSON string, quoted and escaped as nlohmann::json::dump() does (UTF-8 passes
// through; \" \\ \b \f \n \r \t, and \u00xx for the other control characters). Text with
// non-ASCII bytes is escaped by nlohmann::json itself, so invalid UTF-8 throws
// nlohmann::json::type_error exactly as dump() does.
void AppendJsonString(std::string* out, std::string_view s);

// The same without the quotes, for a string written in pieces (all pieces must be ASCII; see
// IsAscii).
void AppendJsonEscapedAscii(std::string* out, std::string_view s);
bool IsAscii(std::string_view s);

// Writes one JSON value into a string, laid out as nlohmann::json::dump(indent): `indent` < 0 is
// compact (`{"a":1,"b":[]}`), otherwise one member or item per line, `indent` spaces per level,
// "key": value, and empty containers as {} and []. `depth` is the nesting level the value
// starts at, for a value written inside a larger document.
//
// Object members must be written in ascending byte order of their keys: that is the order of
// nlohmann::json's std::map, which the output must match. Every Key is followed by one value.
class JsonWriter {
 public:
  JsonWriter(std::string* out, int indent, int depth = 0)
      : out_(out), indent_(indent), depth_(depth) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(std::string_view key);
  void String(std::string_view value);
  void Int(int64_t value);
  void Double(double value);
  void Bool(bool value);
  void Null();

  // Shorthands for a member: Key then the value.
  void Member(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  void Member(std::string_view key, const char* value) { Member(key, std::string_view(value)); }
  void Member(std::string_view key, const std::string& value) {
    Member(key, std::string_view(value));
  }
  void MemberInt(std::string_view key, int64_t value) {
    Key(key);
    Int(value);
  }
  void MemberBool(std::string_view key, bool value) {
    Key(key);
    Bool(value);
  }
  // An array of strings.
  void MemberStrings(std::string_view key, const std::vector<std::string>& items);

  std::string* out() { return out_; }

 private:
  void Open(char bracket);
  void Close(char bracket);
  // Before a value: in an array, the separator and indentation (a member's were written by Key).
  void BeforeValue();
  void NewLine();

  std::string* out_;
  int indent_;
  int depth_;
  // Per open container: whether it is an array, and whether it has an item yet.
  struct Frame {
    bool array;
    bool empty;
  };
  std::vector<Frame> stack_;
};

}  // namespace runbook
