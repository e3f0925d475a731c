// tracked_buffer: asks the library's invariant registry whether the kernel may still use it.
#include "tracked_buffer.hpp"

#include <asio_uring/detail/invariant_check.hpp>

#include <cstring>
#include <utility>

namespace asio_uring::test {

tracked_stats& stats() {
  static tracked_stats s;
  return s;
}

namespace {
std::atomic<std::uint64_t> next_id{1};
}

tracked_buffer::tracked_buffer(std::size_t n, std::byte fill)
    : data_(new std::byte[n ? n : 1]), size_(n), id_(next_id++) {
  std::memset(data_.get(), static_cast<int>(fill), n);
  ++stats().live;
}

tracked_buffer::tracked_buffer(tracked_buffer&& o) noexcept
    : data_(std::move(o.data_)), size_(std::exchange(o.size_, 0)), id_(std::exchange(o.id_, 0)) {}

tracked_buffer& tracked_buffer::operator=(tracked_buffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::move(o.data_);
    size_ = std::exchange(o.size_, 0);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}

void tracked_buffer::release() noexcept {
  if (!data_)
    return;
  if (detail::kernel_may_access(data_.get(), size_))
    ++stats().destroyed_in_use;
  data_.reset();
  --stats().live;
}

tracked_buffer::~tracked_buffer() {
  if (magic_ == dead_magic) {
    ++stats().destroyed_twice;
    return;
  }
  release();
  magic_ = dead_magic;
}

} // namespace asio_uring::test
