// File scenarios shared by the benchmark programs: arguments, random offsets, the timed loop.
// Each program prints one number (operations/s, or MiB/s for sequential) for run_files.py.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace bench {

struct file_args {
  std::string path;
  bool direct = false; // O_DIRECT
  unsigned depth = 1;  // operations in flight
  std::size_t block = 4096;
  bool sequential = false; // sequential block-size reads instead of random 4 KiB ones
  bool fixed = false;      // registered buffers (asio_uring, raw)
  bool immediate = false;  // submit each SQE at once (asio_uring)
  double seconds = 2.0;
  std::uint64_t file_size = 0;
};

inline file_args parse_file_args(int argc, char** argv) {
  file_args a;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s <file> [--direct] [--depth N] [--block BYTES] "
                 "[--sequential] [--fixed] [--immediate] [--seconds S]\n",
                 argv[0]);
    std::exit(2);
  }
  a.path = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--direct")
      a.direct = true;
    else if (s == "--sequential")
      a.sequential = true;
    else if (s == "--fixed")
      a.fixed = true;
    else if (s == "--immediate")
      a.immediate = true;
    else if (s == "--depth" && i + 1 < argc)
      a.depth = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (s == "--block" && i + 1 < argc)
      a.block = std::strtoul(argv[++i], nullptr, 10);
    else if (s == "--seconds" && i + 1 < argc)
      a.seconds = std::atof(argv[++i]);
  }
  struct stat st;
  if (::stat(a.path.c_str(), &st) != 0) {
    std::perror(a.path.c_str());
    std::exit(1);
  }
  a.file_size = static_cast<std::uint64_t>(st.st_size);
  return a;
}

inline int open_for(const file_args& a) {
  int fd = ::open(a.path.c_str(), O_RDONLY | O_CLOEXEC | (a.direct ? O_DIRECT : 0));
  if (fd < 0) {
    std::perror("open");
    std::exit(1);
  }
  return fd;
}

/// Offsets: random block-aligned, or sequential wrapping at the end of the file.
class offsets {
public:
  explicit offsets(const file_args& a)
      : blocks_(a.file_size / a.block), block_(a.block), sequential_(a.sequential) {}
  std::uint64_t next() {
    if (sequential_)
      return (pos_++ % blocks_) * block_;
    state_ ^= state_ << 13; // xorshift64: cheap, and the same sequence in every program
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return (state_ % blocks_) * block_;
  }

private:
  std::uint64_t blocks_, block_;
  bool sequential_;
  std::uint64_t pos_ = 0, state_ = 0x9E3779B97F4A7C15ull;
};

inline double seconds_since_start(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The result line: operations/s, or MiB/s for sequential runs.
inline void report(const file_args& a, std::uint64_t ops, double secs) {
  if (a.sequential)
    std::printf("%.1f\n", static_cast<double>(ops * a.block) / (1 << 20) / secs);
  else
    std::printf("%.0f\n", static_cast<double>(ops) / secs);
}

} // namespace bench
