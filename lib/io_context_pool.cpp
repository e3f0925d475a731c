// asio_uring::io_context_pool: one thread per context, kept running by a work guard.
#include <asio_uring/io_context_pool.hpp>

#include <boost/asio/executor_work_guard.hpp>

#include <optional>
#include <stdexcept>

namespace asio_uring {

struct io_context_pool::guarded {
  std::optional<boost::asio::executor_work_guard<io_context::executor_type>> work;
};

io_context_pool::io_context_pool(std::size_t n, const io_context_options& opts) {
  if (n == 0)
    throw std::invalid_argument("asio_uring::io_context_pool: needs at least one context");
  contexts_.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    contexts_.push_back(std::make_unique<io_context>(opts));
}

io_context_pool::~io_context_pool() {
  stop();
  for (std::thread& t : threads_)
    if (t.joinable())
      t.join();
}

io_context& io_context_pool::get_io_context() noexcept {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void io_context_pool::run() {
  if (!threads_.empty())
    return;
  guards_.clear();
  for (auto& ctx : contexts_) {
    ctx->restart();
    auto g = std::make_unique<guarded>();
    g->work.emplace(ctx->get_executor());
    guards_.push_back(std::move(g));
  }
  threads_.reserve(contexts_.size());
  for (auto& ctx : contexts_)
    threads_.emplace_back([this, c = ctx.get()] {
      try {
        c->run();
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(error_mutex_);
          if (!first_error_)
            first_error_ = std::current_exception();
        }
        stop();
      }
    });
}

void io_context_pool::stop() noexcept {
  for (auto& ctx : contexts_)
    ctx->stop();
}

void io_context_pool::join() {
  for (std::thread& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
  guards_.clear();
  std::exception_ptr e;
  {
    std::lock_guard<std::mutex> lock(error_mutex_);
    e = std::exchange(first_error_, nullptr);
  }
  if (e)
    std::rethrow_exception(e);
}

} // namespace asio_uring
