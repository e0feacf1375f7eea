// One exception hierarchy for airstrap. A layer adds its context by wrapping the lower
// error with std::throw_with_nested; main prints the chain and maps the kind to an exit code.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace airstrap {

// 3 is `airstrap-firstboot status`'s answer while a node or the site is still being set up.
enum class ExitCode : int { ok = 0, failure = 1, bad_input = 2, in_progress = 3 };

class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
    virtual ExitCode exit_code() const noexcept { return ExitCode::failure; }
};

// The user gave us something we cannot use: a bad site file, a bad flag value.
class InputError : public Error {
  public:
    using Error::Error;
    ExitCode exit_code() const noexcept override { return ExitCode::bad_input; }
};

// A system call failed; the message names the file it was about.
class SystemError : public Error {
  public:
    SystemError(const std::string& what, int errnum);
    int errnum() const noexcept { return errnum_; }

  private:
    int errnum_;
};

// "outer: inner: innermost", one link of the nested chain per part.
std::string describe(const std::exception& e);

// The exit code of the most specific airstrap error in the chain (failure if none).
ExitCode exit_code_of(const std::exception& e);

}  // namespace airstrap
