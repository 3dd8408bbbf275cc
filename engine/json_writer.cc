#include "engine/json_writer.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace runbook {

namespace {

// What each byte needs in a JSON string: nothing, an escape, or (non-ASCII) UTF-8 handling.
enum ByteClass : uint8_t { kPlain, kEscape, kNonAscii };

constexpr std::array<uint8_t, 256> MakeByteClasses() {
  std::array<uint8_t, 256> classes{};
  for (int c = 0; c < 256; ++c) {
    classes[c] = c >= 0x80 ? kNonAscii : (c < 0x20 || c == '"' || c == '\\') ? kEscape : kPlain;
  }
  return classes;
}
constexpr std::array<uint8_t, 256> kByteClasses = MakeByteClasses();

// Appends `s` escaped; stops, returning false, at the first non-ASCII byte.
bool AppendEscaped(std::string* out, std::string_view s) {
  size_t run = 0;  // start of the bytes not yet appended
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const uint8_t cls = kByteClasses[c];
    if (cls == kPlain) continue;
    if (cls == kNonAscii) return false;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        static const char kHex[] = "0123456789abcdef";
        const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(u, sizeof u);
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  return true;
}

}  // namespace

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

void AppendJsonEscapedAscii(std::string* out, std::string_view s) {
  AppendEscaped(out, s);
}

void AppendJsonString(std::string* out, std::string_view s) {
  const size_t start = out->size();
  out->push_back('"');
  if (!AppendEscaped(out, s)) {
    // UTF-8 checking and its errors exactly as nlohmann::json's.
    out->resize(start);
    out->append(nlohmann::json(std::string(s)).dump());
    return;
  }
  out->push_back('"');
}

void JsonWriter::NewLine() {
  out_->push_back('\n');
  out_->append(static_cast<size_t>(indent_) * (depth_ + stack_.size()), ' ');
}

void JsonWriter::BeforeValue() {
  if (stack_.empty() || !stack_.back().array) return;
  Frame& f = stack_.back();
  if (!f.empty) out_->push_back(',');
  f.empty = false;
  if (indent_ >= 0) NewLine();
}

void JsonWriter::Open(char bracket) {
  BeforeValue();
  out_->push_back(bracket);
  stack_.push_back({bracket == '[', true});
}

void JsonWriter::Close(char bracket) {
  const bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty && indent_ >= 0) NewLine();
  out_->push_back(bracket);
}

void JsonWriter::BeginObject() {
  Open('{');
}
void JsonWriter::EndObject() {
  Close('}');
}
void JsonWriter::BeginArray() {
  Open('[');
}
void JsonWriter::EndArray() {
  Close(']');
}

void JsonWriter::Key(std::string_view key) {
  Frame& f = stack_.back();
  if (!f.empty) out_->push_back(',');
  f.empty = false;
  if (indent_ >= 0) NewLine();
  AppendJsonString(out_, key);
  out_->append(indent_ >= 0 ? ": " : ":");
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  char buf[24];
  out_->append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

void JsonWriter::Double(double value) {
  BeforeValue();
  out_->append(nlohmann::json(value).dump());  // nlohmann's shortest round-trip form
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_->append(value ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
}

void JsonWriter::MemberStrings(std::string_view key, const std::vector<std::string>& items) {
  Key(key);
  BeginArray();
  for (const std::string& item : items) String(item);
  EndArray();
}

}  // namespace runbook
