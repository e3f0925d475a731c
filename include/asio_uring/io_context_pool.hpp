// asio_uring::io_context_pool: one io_context per thread (thread-per-core), each with its own
// ring; work is spread by handing out the contexts in turn.
#pragma once

#include <asio_uring/io_context.hpp>
#include <asio_uring/io_context_options.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace asio_uring {

/// N contexts run by N threads. Pair it with acceptors opened with `socket_base::reuse_port`
/// (one per context, same port) so the kernel spreads connections, or hand connections out
/// with `get_io_context()`. Objects on one context never migrate to another.
class io_context_pool {
public:
  /// `n` contexts (at least one) built with `opts`. Throws what io_context's constructor throws.
  explicit io_context_pool(std::size_t n, const io_context_options& opts = {});
  /// Stops and joins the threads, then destroys the contexts.
  ~io_context_pool();
  io_context_pool(const io_context_pool&) = delete;
  io_context_pool& operator=(const io_context_pool&) = delete;

  /// The next context, round robin. Any thread.
  io_context& get_io_context() noexcept;
  io_context& operator[](std::size_t i) noexcept { return *contexts_[i]; }
  std::size_t size() const noexcept { return contexts_.size(); }

  /// Starts one thread per context; each runs its context until stop() (the contexts do not
  /// run out of work meanwhile). Returns at once; a second call while running does nothing.
  void run();
  /// Stops every context: their run() return as soon as the handler running now ends. Any
  /// thread, also a handler on one of the pool's threads.
  void stop() noexcept;
  /// Waits for the threads to finish; rethrows the first exception a handler let escape.
  /// Not from a pool thread.
  void join();

private:
  struct guarded; // a context and the work guard that keeps its run() going
  std::vector<std::unique_ptr<io_context>> contexts_;
  std::vector<std::unique_ptr<guarded>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
  std::mutex error_mutex_;
  std::exception_ptr first_error_;
};

} // namespace asio_uring
