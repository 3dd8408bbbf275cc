// JsonWriter and AppendJsonString against nlohmann::json's dump(), byte for byte: plans are
// written with the one and read back (and were written before) with the other.
#include "engine/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace runbook {
namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(JsonWriterTest, StringsAreEscapedAsNlohmannDoes) {
  std::string every_ascii;
  for (int c = 0; c < 128; ++c) every_ascii += static_cast<char>(c);
  for (const std::string& s :
       {std::string(), std::string("plain"), every_ascii,
        std::string("quote \" backslash \\ tab\t nl\n cr\r ff\f bs\b"), std::string("\x01\x1f\x7f"),
        std::string("utf-8: é ü 日本 🙂")}) {
    EXPECT_EQ(Quoted(s), nlohmann::json(s).dump()) << s;
  }
}

TEST(JsonWriterTest, SpecialBytesAnywhere) {
  for (char special : {'"', '\\', '\n', '\x01', '\x1f', ' ', '~', '\x7f'}) {
    for (size_t at = 0; at < 20; ++at) {
      std::string s(20, 'a');
      s[at] = special;
      EXPECT_EQ(Quoted(s), nlohmann::json(s).dump()) << int(special) << " at " << at;
    }
  }
  std::string utf8(20, 'a');
  utf8.replace(11, 2, "\xc3\xa9");
  EXPECT_EQ(Quoted(utf8), nlohmann::json(utf8).dump());
}

TEST(JsonWriterTest, InvalidUtf8ThrowsAsNlohmannDoes) {
  EXPECT_THROW(Quoted("bad \xff byte"), nlohmann::json::type_error);
}

TEST(JsonWriterTest, EscapedAsciiPiecesJoinToTheWholeString) {
  const std::string s = "a\"b\\c\nd\x02";
  std::string pieces = "\"";
  AppendJsonEscapedAscii(&pieces, s.substr(0, 3));
  AppendJsonEscapedAscii(&pieces, s.substr(3));
  pieces += '"';
  EXPECT_EQ(pieces, nlohmann::json(s).dump());
  EXPECT_TRUE(IsAscii(s));
  EXPECT_FALSE(IsAscii("é"));
}

// Writes the same document as Sample() below.
void WriteSample(JsonWriter* w) {
  w->BeginObject();
  w->Key("a");
  w->BeginArray();
  w->EndArray();
  w->Key("b");
  w->BeginObject();
  w->EndObject();
  w->MemberBool("c", true);
  w->Key("d");
  w->Double(0.1);
  w->Key("e");
  w->Double(2.0);
  w->MemberInt("f", -42);
  w->Key("g");
  w->Null();
  w->Key("h");
  w->BeginArray();
  w->Int(1);
  w->String("two");
  w->BeginObject();
  w->Member("k", "v");
  w->MemberStrings("list", {"x", "y"});
  w->EndObject();
  w->BeginArray();
  w->EndArray();
  w->EndArray();
  w->Member("i", "é\n");
  w->EndObject();
}

nlohmann::json Sample() {
  return {{"a", nlohmann::json::array()},
          {"b", nlohmann::json::object()},
          {"c", true},
          {"d", 0.1},
          {"e", 2.0},
          {"f", -42},
          {"g", nullptr},
          {"h", {1, "two", {{"k", "v"}, {"list", {"x", "y"}}}, nlohmann::json::array()}},
          {"i", "é\n"}};
}

TEST(JsonWriterTest, LayoutIsNlohmannDumpForEveryIndent) {
  for (int indent : {-1, 0, 2, 4}) {
    std::string out;
    JsonWriter w(&out, indent);
    WriteSample(&w);
    EXPECT_EQ(out, Sample().dump(indent)) << "indent " << indent;
  }
}

TEST(JsonWriterTest, ValueAtDepthFitsIntoTheEnclosingDocument) {
  // The sample as the only item of an array in an object: depth 2 in dump(2).
  const std::string whole = nlohmann::json({{"items", {Sample()}}}).dump(2);
  std::string out = "{\n  \"items\": [\n    ";
  JsonWriter w(&out, 2, 2);
  WriteSample(&w);
  out += "\n  ]\n}";
  EXPECT_EQ(out, whole);
}

}  // namespace
}  // namespace runbook
