// A C library's handle with one owner: movable, not copyable, released with `Free` exactly
// once. A library's owner type derives from it and names what its creation returns:
//   struct SolvPool : Handle<Pool, pool_free> {
//       SolvPool() : Handle(pool_create(), "libsolv: cannot create a pool") {}
//   };
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace airstrap {

template <class T, auto Free>
class Handle {
  public:
    // Takes `created`; Error(`failure`) when the library returned none.
    Handle(T* created, std::string_view failure) : p_(created) {
        if (!p_) throw Error(std::string(failure));
    }

    T* get() const { return p_.get(); }

  private:
    struct Release {
        void operator()(T* p) const { Free(p); }
    };
    std::unique_ptr<T, Release> p_;
};

}  // namespace airstrap
