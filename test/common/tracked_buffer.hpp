// An owned buffer that checks the safety invariant on destruction: it fails the test if the
// kernel may still access its storage (its op's final CQE has not arrived), if it is destroyed
// twice, or (checked by the fixture) if it leaks.
#pragma once

#include <asio_uring/buffer_traits.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace asio_uring::test {

struct tracked_stats {
  std::atomic<long> live{0};
  std::atomic<long> destroyed_in_use{0}; // destroyed while an SQE still pointed at it
  std::atomic<long> destroyed_twice{0};
  void reset() {
    live = 0;
    destroyed_in_use = 0;
    destroyed_twice = 0;
  }
};
tracked_stats& stats();

class tracked_buffer {
public:
  tracked_buffer() noexcept = default;
  explicit tracked_buffer(std::size_t n, std::byte fill = std::byte{0});
  tracked_buffer(tracked_buffer&& o) noexcept;
  tracked_buffer& operator=(tracked_buffer&& o) noexcept;
  ~tracked_buffer();

  std::byte* data() noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::uint64_t id() const noexcept { return id_; }
  bool empty() const noexcept { return !data_; }

private:
  void release() noexcept;
  static constexpr std::uint32_t alive_magic = 0xA11CEu, dead_magic = 0xDEADu;
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
  std::uint64_t id_ = 0;
  std::uint32_t magic_ = alive_magic;
};

} // namespace asio_uring::test

template <>
struct asio_uring::buffer_traits<asio_uring::test::tracked_buffer> {
  static std::byte* data(asio_uring::test::tracked_buffer& b) noexcept { return b.data(); }
  static std::size_t size(const asio_uring::test::tracked_buffer& b) noexcept { return b.size(); }
};
