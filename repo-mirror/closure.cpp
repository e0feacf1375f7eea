#include "repo-mirror/closure.hpp"

// libsolv's Solvable has a field named `requires`, a keyword in C++20.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wkeyword-macro"
#endif
#define requires solv_requires
extern "C" {
#include <solv/chksum.h>
#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repo_comps.h>
#include <solv/repo_rpmmd.h>
#include <solv/selection.h>
#include <solv/solvable.h>
#include <solv/solver.h>
}
#undef requires

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

#include "common/error.hpp"
#include "common/handle.hpp"
#include "common/text.hpp"
#include "repo-mirror/tree.hpp"

namespace airstrap::mirror {

std::string PackageRef::nevra() const {
    std::string evr = (epoch.empty() || epoch == "0" ? "" : epoch + ":") + version + "-" + release;
    return name + "-" + evr + "." + arch;
}

std::string PackageRef::file_name() const {
    auto slash = location.rfind('/');
    return slash == std::string::npos ? location : location.substr(slash + 1);
}

namespace {

// One owner per libsolv object, as dnf5's libdnf5/solv: movable, not copyable.
class SolvQueue {
  public:
    SolvQueue() { queue_init(&q_); }
    ~SolvQueue() { queue_free(&q_); }
    SolvQueue(SolvQueue&& other) noexcept : q_(other.q_) { queue_init(&other.q_); }
    SolvQueue& operator=(SolvQueue&& other) noexcept {
        if (this != &other) {
            queue_free(&q_);
            q_ = other.q_;
            queue_init(&other.q_);
        }
        return *this;
    }
    SolvQueue(const SolvQueue&) = delete;
    SolvQueue& operator=(const SolvQueue&) = delete;

    Queue* get() { return &q_; }
    int size() const { return q_.count; }
    Id operator[](int i) const { return q_.elements[i]; }
    void push(Id id) { queue_push(&q_, id); }
    void push2(Id a, Id b) { queue_push2(&q_, a, b); }

  private:
    Queue q_;
};

struct SolvSolver : Handle<Solver, solver_free> {
    explicit SolvSolver(Pool* pool)
        : Handle(solver_create(pool), "libsolv: cannot create a solver") {}
};

struct SolvPool : Handle<Pool, pool_free> {
    SolvPool() : Handle(pool_create(), "libsolv: cannot create a pool") {}
};

// The chosen solvables of a solved job.
std::set<Id> decisions_of(Solver* solver) {
    SolvQueue decisions;
    solver_get_decisionqueue(solver, decisions.get());
    std::set<Id> chosen;
    for (int i = 0; i < decisions.size(); ++i) {
        if (decisions[i] > 0) chosen.insert(decisions[i]);
    }
    return chosen;
}

}  // namespace

struct PackagePool::Impl {
    SolvPool owner;
    Pool* pool = owner.get();
    std::vector<Repo*> repos;  // owned by the pool
    std::vector<std::string> repo_names;
    bool prepared = false;

    void prepare() {
        if (prepared) return;
        pool_addfileprovides(pool);
        pool_createwhatprovides(pool);
        prepared = true;
    }

    bool is_comps(Solvable* s) const {
        std::string_view n = pool_id2str(pool, s->name);
        return n.starts_with("group:") || n.starts_with("environment:") ||
               n.starts_with("category:");
    }

    PackageRef ref(Id id) {
        Solvable* s = pool_id2solvable(pool, id);
        PackageRef r;
        r.name = pool_id2str(pool, s->name);
        r.arch = pool_id2str(pool, s->arch);
        std::string evr = pool_id2str(pool, s->evr);
        auto colon = evr.find(':');
        if (colon != std::string::npos) {
            r.epoch = evr.substr(0, colon);
            evr.erase(0, colon + 1);
        }
        auto dash = evr.rfind('-');
        r.version = evr.substr(0, dash);
        r.release = dash == std::string::npos ? "" : evr.substr(dash + 1);
        unsigned int medianr = 0;
        const char* loc = solvable_lookup_location(s, &medianr);
        r.location = loc ? loc : "";
        Id type = 0;
        const char* sum = solvable_lookup_checksum(s, SOLVABLE_CHECKSUM, &type);
        r.checksum = sum ? sum : "";
        const char* type_name = type ? solv_chksum_type2str(type) : nullptr;
        if (auto t = type_name ? checksum_type_from_name(type_name) : std::nullopt)
            r.checksum_type = *t;
        r.size = solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, 0);
        for (std::size_t i = 0; i < repos.size(); ++i) {
            if (repos[i] == s->repo) r.repo = i;
        }
        return r;
    }

    // Solvables named exactly `name` (or providing it, for file and virtual names).
    void select(const std::string& name, SolvQueue& job, Id how) {
        Id dep = pool_str2id(pool, name.c_str(), 0);
        Id flags = SOLVER_SOLVABLE_PROVIDES;
        if (dep) {
            Id p, pp;
            FOR_PROVIDES(p, pp, dep) {
                if (pool->solvables[p].name == dep) {
                    flags = SOLVER_SOLVABLE_NAME;
                    break;
                }
            }
        }
        job.push2(how | flags, dep);
    }

    bool exists(const std::string& name) {
        Id dep = pool_str2id(pool, name.c_str(), 0);
        if (!dep) return false;
        Id p, pp;
        FOR_PROVIDES(p, pp, dep) {
            if (pool->considered && !MAPTST(pool->considered, p)) continue;
            return true;
        }
        return false;
    }

    std::vector<std::string> all_names() {
        std::set<std::string> names;
        Id p;
        Solvable* s;
        FOR_POOL_SOLVABLES(p) {
            s = pool_id2solvable(pool, p);
            names.insert(pool_id2str(pool, s->name));
        }
        return {names.begin(), names.end()};
    }
};

PackagePool::PackagePool(const std::string& arch) : impl_(std::make_unique<Impl>()) {
    // Debian builds libsolv with Debian semantics by default ("all" for noarch, dpkg version
    // order); our packages are RPMs.
    if (pool_setdisttype(impl_->pool, DISTTYPE_RPM) < 0) {
        throw Error("this libsolv cannot handle RPM repositories (built without multi-semantics)");
    }
    pool_setarch(impl_->pool, arch.c_str());
}

PackagePool::~PackagePool() = default;

namespace {

// libsolv reads from FILE*; the metadata is already verified and decompressed in memory.
void add_xml(Repo* repo, const std::string& xml, const std::string& what,
             int (*add)(Repo*, FILE*, int), const std::string& where) {
    if (xml.empty()) return;
    FILE* f = fmemopen(const_cast<char*>(xml.data()), xml.size(), "r");
    if (!f) throw SystemError("fmemopen", errno);
    int rc = add(repo, f, 0);
    std::fclose(f);
    if (rc != 0) {
        throw InputError(where + ": cannot read " + what + ": " + pool_errstr(repo->pool));
    }
}

int add_primary(Repo* r, FILE* f, int) {
    return repo_add_rpmmd(r, f, nullptr, 0);
}
int add_filelists(Repo* r, FILE* f, int) {
    return repo_add_rpmmd(r, f, "FL", REPO_EXTEND_SOLVABLES);
}
int add_comps(Repo* r, FILE* f, int) {
    return repo_add_comps(r, f, 0);
}

}  // namespace

std::size_t PackagePool::add_repo(const RepoMetadata& md) {
    Repo* repo = repo_create(impl_->pool, md.name.c_str());
    add_xml(repo, md.primary, "primary", add_primary, md.name);
    add_xml(repo, md.filelists, "filelists", add_filelists, md.name);
    add_xml(repo, md.comps, "comps", add_comps, md.name);
    repo_internalize(repo);
    impl_->repos.push_back(repo);
    impl_->repo_names.push_back(md.name);
    impl_->prepared = false;
    Id p;
    Solvable* s;
    FOR_REPO_SOLVABLES(repo, p, s) {
        if (impl_->is_comps(s)) continue;
        unsigned int medianr = 0;
        const char* loc = solvable_lookup_location(s, &medianr);
        if (!loc || !is_safe_relative_path(loc)) {
            throw InputError(md.name + ": package " + pool_solvable2str(impl_->pool, s) +
                             " has an unsafe location href '" + (loc ? loc : "") + "'");
        }
        if (solvable_lookup_str(s, SOLVABLE_MEDIABASE)) {
            throw InputError(md.name + ": package " + pool_solvable2str(impl_->pool, s) +
                             " uses xml:base, which a mirror source may not");
        }
    }
    return impl_->repos.size() - 1;
}

void PackagePool::hide(const std::vector<std::string>& nevras) {
    Pool* pool = impl_->pool;
    std::set<std::string> hidden(nevras.begin(), nevras.end());
    if (!pool->considered) {
        pool->considered = static_cast<Map*>(solv_calloc(1, sizeof(Map)));
        map_init(pool->considered, pool->nsolvables);
        map_setall(pool->considered);
    }
    Id p;
    Solvable* s;
    FOR_POOL_SOLVABLES(p) {
        s = pool_id2solvable(pool, p);
        if (impl_->is_comps(s)) continue;
        if (hidden.contains(impl_->ref(p).nevra())) map_clr(pool->considered, p);
    }
    impl_->prepared = false;
}

bool PackagePool::has(const std::string& name) {
    impl_->prepare();
    return impl_->exists(name);
}

std::vector<PackageRef> PackagePool::all_packages(bool include_hidden) {
    std::vector<PackageRef> out;
    Pool* pool = impl_->pool;
    Id p;
    Solvable* s;
    FOR_POOL_SOLVABLES(p) {
        s = pool_id2solvable(pool, p);
        if (impl_->is_comps(s)) continue;
        if (!include_hidden && pool->considered && !MAPTST(pool->considered, p)) continue;
        out.push_back(impl_->ref(p));
    }
    return out;
}

std::vector<PackageRef> PackagePool::closure(const ClosureRequest& request) {
    impl_->prepare();
    Pool* pool = impl_->pool;
    SolvQueue job;
    std::vector<std::string> missing;
    for (const std::string& item : request.install) {
        std::string name = item;
        if (name.starts_with("@^")) {
            name = "environment:" + name.substr(2);
        } else if (name.starts_with("@")) {
            name = "group:" + name.substr(1);
        }
        if (!impl_->exists(name)) {
            missing.push_back(item);
            continue;
        }
        impl_->select(name, job, SOLVER_INSTALL);
    }
    if (!missing.empty()) {
        std::string message = "not in any source: " + text::join(missing, ", ");
        auto names = impl_->all_names();
        if (missing.size() == 1) {
            if (auto near = text::closest(missing[0], names))
                message += " (did you mean '" + *near + "'?)";
        }
        throw InputError(message);
    }
    for (const std::string& name : request.optional) {
        if (impl_->exists(name)) impl_->select(name, job, SOLVER_INSTALL | SOLVER_WEAK);
    }
    for (const std::string& name : request.exclude) {
        if (impl_->exists(name)) impl_->select(name, job, SOLVER_LOCK);
    }
    // Install-only packages, as dnf's installonlypkgs: several versions may sit side by side.
    for (const char* name : {"kernel", "kernel-core", "kernel-modules", "kernel-devel",
                             "kernel-modules-extra", "installonlypkg(kernel)"}) {
        if (Id dep = pool_str2id(pool, name, 0))
            job.push2(SOLVER_MULTIVERSION | SOLVER_SOLVABLE_PROVIDES, dep);
    }
    SolvSolver solver(pool);
    solver_set_flag(solver.get(), SOLVER_FLAG_IGNORE_RECOMMENDED, request.weak_deps ? 0 : 1);
    // Anaconda installs a group's default packages whatever install_weak_deps says: they
    // are the group's Recommends, so solve once, then ask for them explicitly.
    int problems = solver_solve(solver.get(), job.get());
    if (problems > 0) {
        // Every rule of every problem, so the message shows the chain from the request down to
        // what is missing, not just its top.
        std::vector<std::string> problem_texts;
        for (Id i = 1; i <= problems; ++i) {
            SolvQueue rules;
            solver_findallproblemrules(solver.get(), i, rules.get());
            for (int r = 0; r < rules.size(); ++r) {
                Id source = 0, target = 0, dep = 0;
                SolverRuleinfo type =
                    solver_ruleinfo(solver.get(), rules[r], &source, &target, &dep);
                std::string line =
                    solver_problemruleinfo2str(solver.get(), type, source, target, dep);
                if (std::find(problem_texts.begin(), problem_texts.end(), line) ==
                    problem_texts.end()) {
                    problem_texts.push_back(line);
                }
            }
        }
        throw InputError("the packages cannot be installed together: " +
                         text::join(problem_texts, "; "));
    }
    std::set<Id> chosen = decisions_of(solver.get());
    // Group defaults: install them as weak jobs on top, as Anaconda does.
    SolvQueue extra;
    for (Id p : chosen) {
        Solvable* s = pool_id2solvable(pool, p);
        if (!impl_->is_comps(s) || !s->recommends) continue;
        for (Id* dp = s->repo->idarraydata + s->recommends; *dp; ++dp) {
            extra.push2(SOLVER_INSTALL | SOLVER_SOLVABLE_NAME | SOLVER_WEAK, *dp);
        }
    }
    if (extra.size() > 0) {
        for (int i = 0; i < extra.size(); ++i) job.push(extra[i]);
        if (solver_solve(solver.get(), job.get()) == 0) chosen = decisions_of(solver.get());
    }
    std::vector<PackageRef> out;
    for (Id p : chosen) {
        if (p == SYSTEMSOLVABLE) continue;
        Solvable* s = pool_id2solvable(pool, p);
        if (impl_->is_comps(s)) continue;
        out.push_back(impl_->ref(p));
    }
    return out;
}

}  // namespace airstrap::mirror
