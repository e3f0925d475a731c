// http_server: Content-Type from a file name's extension.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace http_server {

inline std::string_view mime_type(std::string_view path) {
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
    return "application/octet-stream";
  std::string ext;
  for (char c : path.substr(dot + 1))
    ext.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  struct entry {
    std::string_view ext, type;
  };
  static constexpr entry table[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"txt", "text/plain; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"ico", "image/vnd.microsoft.icon"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
  };
  for (const entry& e : table)
    if (e.ext == ext)
      return e.type;
  return "application/octet-stream";
}

} // namespace http_server
