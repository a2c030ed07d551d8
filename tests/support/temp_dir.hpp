// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
//
// Thread-safety: not thread-safe; one owner. Move-only.
#pragma once

#include <filesystem>
#include <string>

namespace kiq::testing {

class TempDir {
 public:
  // `prefix` becomes part of the directory name, e.g. "kiq-redis" -> /tmp/kiq-redis-Ab12Cd.
  explicit TempDir(const std::string& prefix = "kiq-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, as a string (convenient for config files and command lines).
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace kiq::testing
