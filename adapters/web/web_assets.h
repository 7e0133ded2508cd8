// The web chat's static files, compiled into the binary from adapters/web/assets/ (see
// CMakeLists.txt: each file becomes a raw string literal), so nothing is fetched at run time.
#pragma once

#include <string_view>

namespace bot::web {

std::string_view ChatHtmlAsset();  // assets/chat.html: the chat page's <main> content
std::string_view AppCssAsset();    // assets/app.css
std::string_view AppJsAsset();     // assets/app.js

}  // namespace bot::web
