#pragma once
// A small XML reader for tests: parses the SVG and HTML we write (elements,
// attributes, text; <script> and <style> contents as raw text; comments and
// <!DOCTYPE> skipped) and throws std::runtime_error on anything malformed
// (unbalanced tags, bad attributes, stray '<' or '&'). Not a general parser.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xml_lite {

struct Element {
  std::string tag;
  std::map<std::string, std::string> attrs;
  std::vector<std::unique_ptr<Element>> children;
  std::string text;  // all text directly inside, entities decoded

  std::string attr(const std::string& name) const {
    auto it = attrs.find(name);
    return it == attrs.end() ? std::string{} : it->second;
  }
  bool has_class(const std::string& cls) const {
    std::string all = " " + attr("class") + " ";
    return all.find(" " + cls + " ") != std::string::npos;
  }
  /// Every element below this one (depth first) for which `pred` holds.
  std::vector<const Element*> find_all(const std::function<bool(const Element&)>& pred) const {
    std::vector<const Element*> out;
    for (const auto& c : children) {
      if (pred(*c)) out.push_back(c.get());
      auto below = c->find_all(pred);
      out.insert(out.end(), below.begin(), below.end());
    }
    return out;
  }
  /// The text of the first <title> child, or empty.
  std::string title() const {
    for (const auto& c : children)
      if (c->tag == "title") return c->text;
    return {};
  }
};

class Parser {
 public:
  explicit Parser(std::string_view s, bool html = false) : s_(s), html_(html) {}

  std::unique_ptr<Element> parse() {
    auto root = std::make_unique<Element>();
    root->tag = "#document";
    std::vector<Element*> stack{root.get()};
    while (i_ < s_.size()) {
      if (s_[i_] != '<') {
        stack.back()->text += text_until('<');
        continue;
      }
      if (starts("<!--")) {
        skip_past("-->");
      } else if (starts("<!") || starts("<?")) {
        skip_past(">");
      } else if (starts("</")) {
        i_ += 2;
        std::string name = read_name();
        skip_space();
        expect('>');
        if (stack.size() < 2 || stack.back()->tag != name)
          fail("closing </" + name + "> does not match <" + stack.back()->tag + ">");
        stack.pop_back();
      } else {
        ++i_;
        auto el = std::make_unique<Element>();
        el->tag = read_name();
        bool self_closing = false;
        for (;;) {
          skip_space();
          if (starts("/>")) {
            i_ += 2;
            self_closing = true;
            break;
          }
          if (starts(">")) {
            ++i_;
            break;
          }
          std::string name = read_name();
          skip_space();
          expect('=');
          skip_space();
          char q = peek();
          if (q != '"' && q != '\'') fail("attribute " + name + " is not quoted");
          ++i_;
          std::string value = text_until(q);
          expect(q);
          if (!el->attrs.emplace(name, value).second) fail("duplicate attribute " + name);
        }
        Element* raw = el.get();
        stack.back()->children.push_back(std::move(el));
        static const char* const kVoid[] = {"meta", "link", "br", "img", "input", "hr"};
        bool is_void = false;
        if (html_)
          for (const char* v : kVoid) is_void = is_void || raw->tag == v;
        if (self_closing || is_void) continue;
        if (raw->tag == "script" || raw->tag == "style") {
          std::string end = "</" + raw->tag + ">";
          auto at = s_.find(end, i_);
          if (at == std::string_view::npos) fail("unterminated <" + raw->tag + ">");
          raw->text = std::string(s_.substr(i_, at - i_));
          i_ = at + end.size();
          continue;
        }
        stack.push_back(raw);
      }
    }
    if (stack.size() != 1) fail("<" + stack.back()->tag + "> is never closed");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("malformed markup at byte " + std::to_string(i_) + ": " + why);
  }
  bool starts(std::string_view p) const { return s_.substr(i_, p.size()) == p; }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void skip_past(std::string_view end) {
    auto at = s_.find(end, i_);
    if (at == std::string_view::npos) fail("unterminated markup");
    i_ = at + end.size();
  }
  std::string read_name() {
    std::size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' || s_[i_] == ':' ||
                              s_[i_] == '_' || s_[i_] == '.'))
      ++i_;
    if (b == i_) fail("expected a name");
    return std::string(s_.substr(b, i_ - b));
  }
  // Text up to `stop`, with the five XML entities (and numeric ones) decoded.
  std::string text_until(char stop) {
    std::string out;
    while (i_ < s_.size() && s_[i_] != stop) {
      char c = s_[i_];
      if (c == '<') fail("stray '<'");
      if (c == '&') {
        auto semi = s_.find(';', i_);
        if (semi == std::string_view::npos || semi - i_ > 8) fail("stray '&'");
        std::string_view ent = s_.substr(i_ + 1, semi - i_ - 1);
        if (ent == "amp") out += '&';
        else if (ent == "lt") out += '<';
        else if (ent == "gt") out += '>';
        else if (ent == "quot") out += '"';
        else if (ent == "apos") out += '\'';
        else if (!ent.empty() && ent[0] == '#') out += '?';
        else fail("unknown entity &" + std::string(ent) + ";");
        i_ = semi + 1;
        continue;
      }
      out += c;
      ++i_;
    }
    return out;
  }
  std::string_view s_;
  bool html_;
  std::size_t i_ = 0;
};

inline std::unique_ptr<Element> parse(std::string_view text, bool html = false) { return Parser(text, html).parse(); }

}  // namespace xml_lite
