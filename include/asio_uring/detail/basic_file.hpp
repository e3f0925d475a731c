// What random_access_file and stream_file share: open, close, size, resize, sync (sync and async).
#pragma once

#include <asio_uring/detail/descriptor_object.hpp>
#include <asio_uring/detail/file_ops.hpp>
#include <asio_uring/file_base.hpp>

#include <boost/asio/async_result.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

namespace asio_uring::detail {

template <class Executor>
class basic_file : public descriptor_object<Executor>, public file_base {
  using base = descriptor_object<Executor>;

public:
  using typename base::executor_type;
  using typename base::native_handle_type;

  /// Opens `path`; throws boost::system::system_error (e.g. no_such_file_or_directory,
  /// permission_denied, is_a_directory).
  void open(const std::string& path, flags open_flags) {
    boost::system::error_code ec;
    open(path, open_flags, ec);
    base::throw_if(ec, "open");
  }
  void open(const std::string& path, flags open_flags, boost::system::error_code& ec) {
    if (this->is_open()) {
      ec = boost::asio::error::already_open;
      return;
    }
    this->fd_ = open_file(path, open_flags, ec);
  }

  std::uint64_t size() const {
    boost::system::error_code ec;
    auto n = size(ec);
    base::throw_if(ec, "size");
    return n;
  }
  std::uint64_t size(boost::system::error_code& ec) const { return file_size(this->fd_, ec); }
  void resize(std::uint64_t n) {
    boost::system::error_code ec;
    resize(n, ec);
    base::throw_if(ec, "resize");
  }
  void resize(std::uint64_t n, boost::system::error_code& ec) { file_resize(this->fd_, n, ec); }
  void sync_all() {
    boost::system::error_code ec;
    sync_all(ec);
    base::throw_if(ec, "sync_all");
  }
  void sync_all(boost::system::error_code& ec) { file_sync(this->fd_, false, ec); }
  void sync_data() {
    boost::system::error_code ec;
    sync_data(ec);
    base::throw_if(ec, "sync_data");
  }
  void sync_data(boost::system::error_code& ec) { file_sync(this->fd_, true, ec); }

  /// fsync through the ring (IORING_OP_FSYNC). @par Completion Signature `void(error_code)`.
  template <class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  auto async_sync_all(CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
        initiate_sync{this, false}, token);
  }
  /// fdatasync through the ring. @par Completion Signature `void(error_code)`.
  template <class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  auto async_sync_data(CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
        initiate_sync{this, true}, token);
  }

  // Asio's constructor set, inherited by random_access_file and stream_file.
  explicit basic_file(const executor_type& ex) : base(ex) {}
  basic_file(const executor_type& ex, const std::string& path, flags open_flags) : base(ex) {
    open(path, open_flags);
  }
  basic_file(const executor_type& ex, native_handle_type fd) : base(ex) { this->assign(fd); }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  explicit basic_file(ExecutionContext& ctx) : base(executor_of<executor_type>(ctx)) {}
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_file(ExecutionContext& ctx, const std::string& path, flags open_flags)
      : basic_file(executor_of<executor_type>(ctx), path, open_flags) {}
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_file(ExecutionContext& ctx, native_handle_type fd)
      : basic_file(executor_of<executor_type>(ctx), fd) {}

protected:
  basic_file(basic_file&&) noexcept = default;
  basic_file& operator=(basic_file&&) noexcept = default;
  ~basic_file() = default;

private:
  struct initiate_sync {
    basic_file* self;
    bool data_only;
    executor_type get_executor() const noexcept { return self->executor_; }
    template <class Handler>
    void operator()(Handler&& h) const {
      self->template start_op<fsync_payload>(std::forward<Handler>(h), self->fd_, data_only);
    }
  };
};

} // namespace asio_uring::detail
