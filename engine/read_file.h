// Reading files: whole into one exactly sized buffer, or a piece at a time.
//
// A runbook of 100k steps is 30 MB: copying it through an ostringstream (which doubles its
// buffer, then copies it out) briefly held three times that and took a sixth of `validate`; the
// loader and FileHash now read it in pieces and never hold it whole.
#pragma once

#include <string>
#include <string_view>

namespace runbook {

// Reads the file at `path` into `*text`. False when it cannot be opened. A read error after
// opening (a directory, an I/O error) ends the text where it happened, as a stream copy does.
bool ReadFile(const std::string& path, std::string* text);

// An open file, read a piece at a time. Read errors end the file, as for ReadFile.
class InputFile {
 public:
  InputFile() = default;
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // False when `path` cannot be opened.
  bool Open(const std::string& path);
  // A regular file: it can be read again from the start (Rewind), and its size is a good guess
  // of how much there is to read. Pipes and devices are not.
  bool regular() const { return regular_; }
  size_t size_hint() const { return size_hint_; }

  // Reads the next bytes into buffer[0, size): how many, 0 at the end.
  size_t Read(char* buffer, size_t size);
  // Calls `piece` with consecutive pieces of the rest of the file until the end, or until it
  // returns false.
  template <class F>
  void ForEachPiece(F piece) {
    char buf[1 << 16];
    while (size_t n = Read(buf, sizeof buf)) {
      if (!piece(std::string_view(buf, n))) return;
    }
  }
  // The rest of the file.
  std::string ReadRest();
  // Back to the start. REQUIRES: regular().
  bool Rewind();

 private:
  int fd_ = -1;
  bool regular_ = false;
  size_t size_hint_ = 0;
};

}  // namespace runbook
