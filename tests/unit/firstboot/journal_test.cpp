// The node's journal: what is on disk after every change is a whole journal that loads back
// to the same records (also after kill -9 at a random moment), a corrupt file is refused with
// the file's name and what to do, and a step interrupted while running is run again.
#include "firstboot/journal.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace fs = std::filesystem;
using namespace airstrap;
using namespace airstrap::firstboot;
using nlohmann::json;

namespace {

const std::vector<std::string> plan{"identity", "checks",         "host_keys", "compute",
                                    "enrol",    "authorized_key", "chrony",    "chrony_wait"};

class Journal_ : public ::testing::Test {
  protected:
    fs::path file() const { return dir_.path() / "var/lib/airstrap/journal.json"; }

    json on_disk() const { return json::parse(read_file(file(), 1 << 20)); }

    // The file on disk is a whole journal, equal to what the journal holds, and loads back to
    // the same records; no temp file is left beside it.
    void expect_durable(const Journal& j) const {
        EXPECT_EQ(on_disk(), json::parse(j.to_json()));
        EXPECT_EQ(Journal(file(), plan).records(), j.records());
        for (const auto& e : fs::directory_iterator(file().parent_path()))
            EXPECT_EQ(e.path().filename(), "journal.json") << "left behind: " << e.path();
        EXPECT_EQ(fs::status(file()).permissions() & fs::perms::all,
                  fs::perms::owner_read | fs::perms::owner_write);
    }

    void write(const std::string& text) const {
        fs::create_directories(file().parent_path());
        write_file_atomic(file(), text, 0600);
    }

    std::string load_error() const {
        try {
            Journal j(file(), plan);
            ADD_FAILURE() << "a corrupt journal loaded";
        } catch (const InputError& e) {
            return e.what();
        }
        return "";
    }

    TempDir dir_{fs::temp_directory_path(), "journal-test"};
};

json step(const std::string& name, const std::string& state, int attempts = 1,
          const std::string& detail = "") {
    return {{"name", name},         {"state", state},   {"detail", detail},
            {"attempts", attempts}, {"started", 100.5}, {"finished", 0}};
}

}  // namespace

TEST_F(Journal_, NewJournalIsAllPendingAndWritesNothingUntilAChange) {
    Journal j(file(), plan);
    auto r = j.records();
    ASSERT_EQ(r.size(), plan.size());
    for (std::size_t i = 0; i < plan.size(); ++i) {
        EXPECT_EQ(r[i].name, plan[i]);
        EXPECT_EQ(r[i].state, StepState::pending);
        EXPECT_EQ(r[i].attempts, 0);
    }
    EXPECT_FALSE(j.done("identity"));
    EXPECT_FALSE(j.all_done());
    EXPECT_FALSE(fs::exists(file()));
    EXPECT_FALSE(fs::exists(file().parent_path()));
    j.start("identity");  // creates the state folder
    EXPECT_TRUE(fs::exists(file()));
}

TEST_F(Journal_, RoundTripsThroughTheFile) {
    {
        Journal j(file(), plan);
        j.start("identity");
        j.finish("identity", "hostname compute-node; /etc/hosts names 3 nodes");
        j.start("checks");
        j.fail("checks", "yum -q repolist does not list airstrap");
        j.start("checks");
        j.finish("checks", "firewalld, NetworkManager off; SELinux disabled; repo airstrap");
    }
    Journal j(file(), plan);
    auto r = j.records();
    EXPECT_EQ(r[0].state, StepState::done);
    EXPECT_EQ(r[0].detail, "hostname compute-node; /etc/hosts names 3 nodes");
    EXPECT_EQ(r[0].attempts, 1);
    EXPECT_GT(r[0].started, 1.6e9);
    EXPECT_GE(r[0].finished, r[0].started);
    EXPECT_EQ(r[1].state, StepState::done);
    EXPECT_EQ(r[1].attempts, 2);
    EXPECT_EQ(r[2].state, StepState::pending);
    EXPECT_TRUE(j.done("checks"));
    EXPECT_FALSE(j.done("host_keys"));

    auto doc = on_disk();
    EXPECT_EQ(doc["format"], 1);
    ASSERT_EQ(doc["steps"].size(), plan.size());
    EXPECT_EQ(doc["steps"][1]["name"], "checks");
    EXPECT_EQ(doc["steps"][1]["state"], "done");
    EXPECT_EQ(doc["steps"][1]["attempts"], 2);
    for (const char* key : {"name", "state", "detail", "attempts", "started", "finished"})
        EXPECT_TRUE(doc["steps"][0].contains(key)) << key;
    EXPECT_EQ(json::parse(j.to_json()), doc);
}

TEST_F(Journal_, FileOnDiskIsWholeAndCurrentAfterEveryChange) {
    Journal j(file(), plan);
    for (const auto& s : plan) {
        j.start(s);
        expect_durable(j);
        j.fail(s, "first try failed");
        expect_durable(j);
        j.start(s);
        expect_durable(j);
        j.finish(s, s + " done");
        expect_durable(j);
    }
    EXPECT_TRUE(j.all_done());
    j.reset_from("enrol");
    expect_durable(j);
}

TEST_F(Journal_, KilledAtAnyMomentLeavesAJournalThatLoads) {
    // A child writes the journal as fast as it can; kill -9 lands anywhere in a write.
    for (int round = 0; round < 12; ++round) {
        pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            try {
                Journal j(file(), plan);
                for (int i = 0;; ++i) {
                    const std::string& s = plan[static_cast<std::size_t>(i) % plan.size()];
                    j.start(s);
                    j.finish(s, "round " + std::to_string(i) + std::string(200, 'x'));
                }
            } catch (...) {
                ::_exit(3);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5 + 7 * round));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: " << status;

        Journal j(file(), plan);  // throws if the file were torn
        if (fs::exists(file())) {
            EXPECT_EQ(on_disk()["steps"].size(), plan.size());
        }
        // The next change clears the temp file the killed writer may have left.
        j.start("identity");
        expect_durable(j);
    }
}

TEST_F(Journal_, CorruptFileIsRefusedWithItsNameAndWhatToDo) {
    write("{\"format\": 1, \"steps\": [");
    std::string e = load_error();
    EXPECT_NE(e.find(file().string() + ": not a journal this airstrap can read ("),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("remove it to start over"), std::string::npos) << e;
    EXPECT_EQ(e.find("json.exception"), std::string::npos) << e;

    write("");
    EXPECT_NE(load_error().find(file().string()), std::string::npos);

    write(json{{"format", 1}, {"steps", {step("identity", "done"), step("checks", "halfway")}}}
              .dump());
    EXPECT_EQ(load_error(), file().string() +
                                ": not a journal this airstrap can read (steps[1].state: unknown "
                                "state 'halfway'); remove it to start over: every step of this "
                                "node then runs again");

    write(json{{"format", 2}, {"steps", json::array()}}.dump());
    EXPECT_NE(load_error().find("(format 2; this airstrap reads format 1)"), std::string::npos);

    auto no_attempts = step("identity", "done");
    no_attempts.erase("attempts");
    write(json{{"format", 1}, {"steps", {no_attempts}}}.dump());
    EXPECT_NE(load_error().find("steps[0]: missing key 'attempts'"), std::string::npos);

    write(json{{"format", 1}, {"steps", {step("identity", "done"), step("identity", "failed")}}}
              .dump());
    EXPECT_NE(load_error().find("steps[1]: step 'identity' appears twice"), std::string::npos);

    write("[1, 2]");
    EXPECT_NE(load_error().find("expected a JSON object"), std::string::npos);
}

TEST_F(Journal_, AStepFoundRunningIsRunAgainWithItsAttemptsKept) {
    write(
        json{{"format", 1},
             {"steps", {step("identity", "done", 1, "hostname set"), step("checks", "running", 2)}}}
            .dump());
    Journal j(file(), plan);
    EXPECT_TRUE(j.done("identity"));
    EXPECT_FALSE(j.done("checks"));
    auto r = j.records();
    EXPECT_EQ(r[1].state, StepState::running);
    EXPECT_EQ(r[1].attempts, 2);
    EXPECT_EQ(r[2].state, StepState::pending);
    j.start("checks");
    EXPECT_EQ(j.records()[1].attempts, 3);
    j.finish("checks", "ok");
    EXPECT_TRUE(j.done("checks"));
}

TEST_F(Journal_, FailedStepIsNotDone) {
    Journal j(file(), plan);
    j.start("identity");
    j.fail("identity", "cannot write /etc/hostname");
    Journal again(file(), plan);
    EXPECT_FALSE(again.done("identity"));
    EXPECT_EQ(again.records()[0].state, StepState::failed);
    EXPECT_EQ(again.records()[0].detail, "cannot write /etc/hostname");
}

TEST_F(Journal_, ResetFromMarksThatStepAndEveryLaterOnePending) {
    Journal j(file(), plan);
    for (const auto& s : plan) {
        j.start(s);
        j.finish(s, s + " ok");
    }
    ASSERT_TRUE(j.all_done());
    j.reset_from("enrol");
    auto r = j.records();
    for (std::size_t i = 0; i < plan.size(); ++i) {
        bool before = i < 4;
        EXPECT_EQ(r[i].state, before ? StepState::done : StepState::pending) << plan[i];
        EXPECT_EQ(r[i].detail, before ? plan[i] + " ok" : "") << plan[i];
        EXPECT_EQ(r[i].attempts, 1) << plan[i];  // kept: the status shows how often it ran
    }
    EXPECT_FALSE(j.all_done());
    EXPECT_EQ(Journal(file(), plan).records(), r);

    try {
        j.reset_from("chrony-wait");
        ADD_FAILURE() << "accepted";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "--rerun: no step 'chrony-wait' in this node's plan (did you mean "
                  "'chrony_wait'?); its steps are: identity, checks, host_keys, compute, enrol, "
                  "authorized_key, chrony, chrony_wait");
    }
}

TEST_F(Journal_, UnknownStepIsAProgrammingError) {
    Journal j(file(), plan);
    EXPECT_THROW(j.start("packstack"), Error);
    EXPECT_THROW(j.finish("packstack", ""), Error);
    EXPECT_THROW(j.fail("packstack", ""), Error);
    EXPECT_THROW(j.done("packstack"), Error);
    EXPECT_FALSE(fs::exists(file()));
    EXPECT_THROW(Journal(file(), {"identity", "identity"}), Error);
}

TEST_F(Journal_, APlanChangeKeepsKnownStepsDropsOthersAndLoadingNeverWrites) {
    write(json{{"format", 1},
               {"steps",
                {step("identity", "done", 1, "hostname set"), step("external_nic", "done"),
                 step("checks", "failed", 4, "no repo")}}}
              .dump());
    std::string before = read_file(file(), 1 << 20);
    Journal j(file(), {"identity", "checks", "host_keys"});
    EXPECT_EQ(read_file(file(), 1 << 20), before);
    auto r = j.records();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].detail, "hostname set");
    EXPECT_EQ(r[1].state, StepState::failed);
    EXPECT_EQ(r[1].attempts, 4);
    EXPECT_EQ(r[2].state, StepState::pending);
    j.start("host_keys");
    auto doc = on_disk();
    ASSERT_EQ(doc["steps"].size(), 3u);
    EXPECT_EQ(doc["steps"][2]["name"], "host_keys");
}

TEST_F(Journal_, DetailsThatAreNotUtf8AreStoredNotThrown) {
    Journal j(file(), plan);
    j.start("checks");
    j.fail("checks", "yum said \xff\xfe\n on two lines");
    auto r = Journal(file(), plan).records();
    EXPECT_EQ(r[1].state, StepState::failed);
    EXPECT_NE(r[1].detail.find("yum said"), std::string::npos);
}

TEST_F(Journal_, ConcurrentChangesKeepTheFileWhole) {
    Journal j(file(), plan);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                const std::string& s = plan[(t * 2 + static_cast<std::size_t>(i)) % plan.size()];
                j.start(s);
                j.finish(s, "thread " + std::to_string(t));
            }
        });
    }
    for (auto& t : threads) t.join();
    expect_durable(j);
    int attempts = 0;
    for (const auto& r : j.records()) attempts += r.attempts;
    EXPECT_EQ(attempts, 40);
}

TEST(JournalStepState, NamesRoundTrip) {
    for (StepState s : {StepState::pending, StepState::running, StepState::done, StepState::failed})
        EXPECT_EQ(step_state_from(to_string(s)), s);
    EXPECT_EQ(step_state_from("Done"), std::nullopt);
}
