#include "site/secrets.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "common/diagnostics.hpp"

namespace airstrap::site {
namespace {

namespace fs = std::filesystem;

// gtest only (the unit tests do not link gmock): substring checks with a readable failure.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "'" << part << "' not in:\n" << text;
}

::testing::AssertionResult Lacks(const std::string& text, const std::string& part) {
    if (text.find(part) == std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "'" << part << "' found in:\n" << text;
}

constexpr std::string_view kAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

const std::string kSecretHex(64, 'a');

// A valid secrets.yaml with the given root password line value.
std::string secrets_text(const std::string& root_value) {
    return "site_secret: " + kSecretHex +
           "\n"
           "passwords:\n"
           "  root: " +
           root_value +
           "\n"
           "  default: Xk9mPq2RtLw7Vn4Zs8Hy\n"
           "  keystone_admin: Ab3dEf6hJk9mNp2qRs5t\n";
}

// The value of `key:` in generated YAML, up to the first space (comments follow).
std::string yaml_value(const std::string& yaml, const std::string& key) {
    std::smatch m;
    std::regex re("(^|\\n) *" + key + ": ([^ \\n]+)");
    if (!std::regex_search(yaml, m, re)) return {};
    return m[2];
}

// ---- generation ----------------------------------------------------------------------------

TEST(GenerateSecrets, ParsesBackWithoutErrors) {
    std::string yaml = generate_secrets_yaml();
    SourceFile source{"secrets.yaml", yaml, false};
    Diagnostics diag(source);
    auto secrets = parse_secrets(source, diag);
    ASSERT_TRUE(secrets) << diag.render();
    EXPECT_EQ(diag.error_count(), 0u) << diag.render();
    EXPECT_EQ(secrets->site_secret.size(), site_secret_bytes);
    EXPECT_EQ(crypto::to_hex(secrets->site_secret), yaml_value(yaml, "site_secret"));
    EXPECT_EQ(secrets->root_password, yaml_value(yaml, "root"));
    EXPECT_EQ(secrets->default_password, yaml_value(yaml, "default"));
    EXPECT_EQ(secrets->keystone_admin_password, yaml_value(yaml, "keystone_admin"));
}

TEST(GenerateSecrets, SecretIs32BytesAndPasswordsAre20FromTheAlphabet) {
    std::string yaml = generate_secrets_yaml();
    SourceFile source{"secrets.yaml", yaml, false};
    Diagnostics diag(source);
    auto secrets = parse_secrets(source, diag);
    ASSERT_TRUE(secrets) << diag.render();
    EXPECT_EQ(secrets->site_secret.size(), 32u);
    EXPECT_EQ(yaml_value(yaml, "site_secret").size(), 64u);
    for (const std::string* pw :
         {&secrets->root_password, &secrets->default_password, &secrets->keystone_admin_password}) {
        EXPECT_EQ(pw->size(), 20u) << *pw;
        EXPECT_EQ(pw->find_first_not_of(kAlphabet), std::string::npos) << *pw;
        // No look-alikes.
        EXPECT_EQ(pw->find_first_of("0O1lI"), std::string::npos) << *pw;
    }
}

TEST(GenerateSecrets, TwoGenerationsDiffer) {
    std::string a = generate_secrets_yaml();
    std::string b = generate_secrets_yaml();
    EXPECT_NE(a, b);
    EXPECT_NE(yaml_value(a, "site_secret"), yaml_value(b, "site_secret"));
    EXPECT_NE(yaml_value(a, "root"), yaml_value(b, "root"));
    EXPECT_NE(yaml_value(a, "default"), yaml_value(b, "default"));
    EXPECT_NE(yaml_value(a, "keystone_admin"), yaml_value(b, "keystone_admin"));
}

TEST(GeneratePassword, LengthAndAlphabet) {
    for (std::size_t len : {1u, 12u, 20u, 64u}) {
        std::string pw = generate_password(len);
        EXPECT_EQ(pw.size(), len);
        EXPECT_EQ(pw.find_first_not_of(kAlphabet), std::string::npos) << pw;
    }
    EXPECT_EQ(generate_password().size(), 20u);
    EXPECT_NE(generate_password(), generate_password());
}

TEST(GeneratePassword, UsesTheWholeAlphabet) {
    // 57 symbols; 20000 draws miss one with probability about 57 * e^-350.
    std::string all = generate_password(20000);
    for (char c : kAlphabet) EXPECT_NE(all.find(c), std::string::npos) << c;
}

// Regression: generated passwords are letters only about 5% of the time, and such a
// password was once judged weak, so about 1 in 7 fresh secrets files warned.
TEST(GenerateSecrets, FreshFileNeverWarns) {
    int warned = 0;
    for (int i = 0; i < 100; ++i) {
        std::string yaml = generate_secrets_yaml();
        SourceFile source{"secrets.yaml", yaml, false};
        Diagnostics diag(source);
        ASSERT_TRUE(parse_secrets(source, diag)) << diag.render();
        if (!diag.all().empty()) {
            ++warned;
            ADD_FAILURE() << diag.render();
        }
    }
    EXPECT_EQ(warned, 0);
}

// The same bug, deterministically: a password generate_password() can return.
TEST(GeneratePassword, ItsOwnOutputIsNeverWeak) {
    std::string pw = "abcdefghjkmnpqrstuvw";
    ASSERT_EQ(pw.size(), 20u);
    ASSERT_EQ(pw.find_first_not_of(kAlphabet), std::string::npos);
    EXPECT_EQ(password_weakness(pw), std::nullopt);
}

// ---- password_weakness ---------------------------------------------------------------------

TEST(PasswordWeakness, DigitsOnly) {
    auto why = password_weakness("123456");
    ASSERT_TRUE(why);
    EXPECT_TRUE(Contains(*why, "digits only"));
    EXPECT_TRUE(Contains(*why, "6 characters"));
    auto long_digits = password_weakness("98765432109876");
    ASSERT_TRUE(long_digits);
    EXPECT_EQ(*long_digits, "digits only");
}

TEST(PasswordWeakness, ShortLettersAndWellKnown) {
    auto why = password_weakness("Password");
    ASSERT_TRUE(why);
    EXPECT_TRUE(Contains(*why, "8 characters"));
    EXPECT_TRUE(Contains(*why, "letters only"));
    EXPECT_TRUE(Contains(*why, "a well-known password"));
    auto short_mixed = password_weakness("ab3$");
    ASSERT_TRUE(short_mixed);
    EXPECT_EQ(*short_mixed, "4 characters");
}

TEST(PasswordWeakness, StrongPasswordIsNotWeak) {
    EXPECT_EQ(password_weakness("Xk9mPq2RtLw7Vn4Zs8Hy"), std::nullopt);
    EXPECT_EQ(password_weakness("correct-horse-9"), std::nullopt);
}

// ---- parse_secrets -------------------------------------------------------------------------

TEST(ParseSecrets, ValidFile) {
    SourceFile source{"secrets.yaml", secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc"), false};
    Diagnostics diag(source);
    auto secrets = parse_secrets(source, diag);
    ASSERT_TRUE(secrets) << diag.render();
    EXPECT_TRUE(diag.all().empty()) << diag.render();
    EXPECT_EQ(secrets->site_secret, crypto::Bytes(32, 0xaa));
    EXPECT_EQ(secrets->root_password, "Zq8Wn3Kp5Rt7Yx2Mv4Bc");
    EXPECT_EQ(secrets->default_password, "Xk9mPq2RtLw7Vn4Zs8Hy");
    EXPECT_EQ(secrets->keystone_admin_password, "Ab3dEf6hJk9mNp2qRs5t");
}

TEST(ParseSecrets, WeakPasswordIsAWarningNotAnError) {
    SourceFile source{"secrets.yaml", secrets_text("\"123456\""), false};
    Diagnostics diag(source);
    auto secrets = parse_secrets(source, diag);
    ASSERT_TRUE(secrets) << diag.render();
    EXPECT_EQ(secrets->root_password, "123456");
    EXPECT_EQ(diag.error_count(), 0u);
    ASSERT_EQ(diag.all().size(), 1u) << diag.render();
    const Diagnostic& d = diag.all()[0];
    EXPECT_EQ(d.severity, Severity::warning);
    EXPECT_EQ(d.where.line, 3);
    EXPECT_EQ(d.where.column, 9);
    EXPECT_TRUE(Contains(d.message, "passwords.root is weak"));
    EXPECT_TRUE(Contains(d.message, "digits only"));
}

TEST(ParseSecrets, SecretOf63HexDigitsIsAnError) {
    std::string text = "site_secret: " + std::string(63, 'b') +
                       "\npasswords:\n  root: Zq8Wn3Kp5Rt7Yx2Mv4Bc\n"
                       "  default: Xk9mPq2RtLw7Vn4Zs8Hy\n  keystone_admin: Ab3dEf6hJk9mNp2qRs5t\n";
    SourceFile source{"secrets.yaml", text, false};
    Diagnostics diag(source);
    EXPECT_FALSE(parse_secrets(source, diag));
    ASSERT_EQ(diag.error_count(), 1u) << diag.render();
    EXPECT_EQ(diag.all()[0].where.line, 1);
    EXPECT_TRUE(Contains(diag.all()[0].message, "site_secret must be 64 hex digits"));
}

TEST(ParseSecrets, SecretOfWrongByteCountOrNotHexIsAnError) {
    for (const std::string& secret :
         {std::string(62, 'c'), std::string(66, 'c'), std::string(63, 'c') + "g"}) {
        std::string text =
            "site_secret: " + secret +
            "\npasswords:\n  root: Zq8Wn3Kp5Rt7Yx2Mv4Bc\n"
            "  default: Xk9mPq2RtLw7Vn4Zs8Hy\n  keystone_admin: Ab3dEf6hJk9mNp2qRs5t\n";
        SourceFile source{"secrets.yaml", text, false};
        Diagnostics diag(source);
        EXPECT_FALSE(parse_secrets(source, diag)) << secret;
        EXPECT_TRUE(Contains(diag.render(), "site_secret must be 64 hex digits")) << secret;
    }
}

TEST(ParseSecrets, UnknownPasswordKeyWithDidYouMean) {
    std::string text = "site_secret: " + kSecretHex +
                       "\npasswords:\n  roto: Zq8Wn3Kp5Rt7Yx2Mv4Bc\n"
                       "  default: Xk9mPq2RtLw7Vn4Zs8Hy\n  keystone_admin: Ab3dEf6hJk9mNp2qRs5t\n";
    SourceFile source{"secrets.yaml", text, false};
    Diagnostics diag(source);
    EXPECT_FALSE(parse_secrets(source, diag));
    EXPECT_TRUE(diag.has_errors());
    std::string out = diag.render();
    EXPECT_TRUE(Contains(out,
                         "secrets.yaml:3:3: error: unknown key 'roto' in 'passwords' "
                         "(did you mean 'root'?)"));
    EXPECT_TRUE(Contains(out, "missing required key 'root' in 'passwords'"));
}

TEST(ParseSecrets, UnknownTopLevelKeyWithDidYouMean) {
    std::string text = "site_secert: " + kSecretHex +
                       "\npasswords:\n  root: Zq8Wn3Kp5Rt7Yx2Mv4Bc\n"
                       "  default: Xk9mPq2RtLw7Vn4Zs8Hy\n  keystone_admin: Ab3dEf6hJk9mNp2qRs5t\n";
    SourceFile source{"secrets.yaml", text, false};
    Diagnostics diag(source);
    EXPECT_FALSE(parse_secrets(source, diag));
    std::string out = diag.render();
    EXPECT_TRUE(Contains(out, "unknown key 'site_secert'"));
    EXPECT_TRUE(Contains(out, "(did you mean 'site_secret'?)"));
    EXPECT_TRUE(Contains(out, "missing required key 'site_secret'"));
}

// Regression: messages about the secrets file's top level once called it "the site file".
TEST(ParseSecrets, TopLevelMessagesDoNotCallItTheSiteFile) {
    std::string text = "site_secert: " + kSecretHex +
                       "\npasswords:\n  root: Zq8Wn3Kp5Rt7Yx2Mv4Bc\n"
                       "  default: Xk9mPq2RtLw7Vn4Zs8Hy\n  keystone_admin: Ab3dEf6hJk9mNp2qRs5t\n";
    SourceFile source{"secrets.yaml", text, false};
    Diagnostics diag(source);
    EXPECT_FALSE(parse_secrets(source, diag));
    EXPECT_TRUE(Lacks(diag.render(), "the site file"));
}

TEST(ParseSecrets, PasswordWithSpaceIsAnError) {
    SourceFile source{"secrets.yaml", secrets_text("\"two words\""), false};
    Diagnostics diag(source);
    EXPECT_FALSE(parse_secrets(source, diag));
    ASSERT_EQ(diag.error_count(), 1u) << diag.render();
    EXPECT_TRUE(
        Contains(diag.all()[0].message, "passwords.root must be printable ASCII without spaces"));
}

TEST(ParseSecrets, InvalidUtf8IsAnError) {
    SourceFile source{"secrets.yaml", secrets_text("caf\xC3"), false};
    Diagnostics diag(source);
    EXPECT_FALSE(parse_secrets(source, diag));
    ASSERT_EQ(diag.error_count(), 1u);
    EXPECT_EQ(diag.all()[0].message, "the secrets file is not UTF-8");
    EXPECT_EQ(diag.all()[0].where.line, 3);
    EXPECT_EQ(diag.all()[0].where.column, 12);
}

// ---- load_secrets --------------------------------------------------------------------------

class LoadSecretsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::path(::testing::TempDir()) / "airstrap-secrets-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
        dir_ = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    fs::path write(const std::string& text, mode_t mode) {
        fs::path p = dir_ / "secrets.yaml";
        {
            std::ofstream out(p, std::ios::binary);
            out << text;
        }
        EXPECT_EQ(::chmod(p.c_str(), mode), 0);
        return p;
    }

    fs::path dir_;
};

TEST_F(LoadSecretsTest, ModeReadableByOthersIsRefused) {
    fs::path p = write(secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc"), 0644);
    SourceFile source;
    Diagnostics diag(source);
    auto secrets = load_secrets(p, source, diag);
    EXPECT_FALSE(secrets);
    ASSERT_EQ(diag.error_count(), 1u);
    EXPECT_EQ(diag.render(), p.string() + ": error: mode 0644 lets other users read the secrets; " +
                                 "run 'chmod 600 " + p.string() + "'\n");
    EXPECT_TRUE(Lacks(diag.render(), "Zq8Wn3Kp5Rt7Yx2Mv4Bc"));
}

TEST_F(LoadSecretsTest, GroupReadableIsRefusedToo) {
    fs::path p = write(secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc"), 0640);
    SourceFile source;
    Diagnostics diag(source);
    EXPECT_FALSE(load_secrets(p, source, diag));
    EXPECT_TRUE(Contains(diag.render(), "chmod 600"));
    EXPECT_TRUE(Contains(diag.render(), "mode 0640"));
}

TEST_F(LoadSecretsTest, Mode0600IsLoaded) {
    fs::path p = write(secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc"), 0600);
    SourceFile source;
    Diagnostics diag(source);
    auto secrets = load_secrets(p, source, diag);
    ASSERT_TRUE(secrets) << diag.render();
    EXPECT_TRUE(diag.all().empty()) << diag.render();
    EXPECT_EQ(secrets->root_password, "Zq8Wn3Kp5Rt7Yx2Mv4Bc");
    EXPECT_EQ(source.path, p.string());
    EXPECT_FALSE(source.quote_lines);
    EXPECT_EQ(source.text, secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc"));
}

TEST_F(LoadSecretsTest, Mode0400IsLoaded) {
    fs::path p = write(secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc"), 0400);
    SourceFile source;
    Diagnostics diag(source);
    EXPECT_TRUE(load_secrets(p, source, diag)) << diag.render();
}

TEST_F(LoadSecretsTest, MissingFileSaysHowToMakeOne) {
    fs::path p = dir_ / "secrets.yaml";
    SourceFile source;
    Diagnostics diag(source);
    EXPECT_FALSE(load_secrets(p, source, diag));
    ASSERT_EQ(diag.error_count(), 1u);
    EXPECT_EQ(diag.render(), p.string() +
                                 ": error: no secrets file; 'airstrap init --secrets-only " +
                                 dir_.string() + "' makes one\n");
}

TEST_F(LoadSecretsTest, RenderedDiagnosticsNeverContainThePasswords) {
    // A weak root password (a warning on its line) and a default password with a space (an
    // error on its line): both lines would be quoted in any other file.
    std::string text = "site_secret: " + kSecretHex +
                       "\n"
                       "passwords:\n"
                       "  root: hunter2\n"
                       "  default: \"open sesame 42\"\n"
                       "  keystone_admin: Ab3dEf6hJk9mNp2qRs5t\n";
    fs::path p = write(text, 0600);
    SourceFile source;
    Diagnostics diag(source);
    EXPECT_FALSE(load_secrets(p, source, diag));
    std::string out = diag.render();
    EXPECT_TRUE(Contains(out, p.string() + ":3:9: warning: passwords.root is weak"));
    EXPECT_TRUE(Contains(out, p.string() + ":4:12: error: passwords.default must be printable"));
    EXPECT_TRUE(Lacks(out, "hunter2"));
    EXPECT_TRUE(Lacks(out, "open sesame"));
    EXPECT_TRUE(Lacks(out, "Ab3dEf6hJk9mNp2qRs5t"));
    EXPECT_TRUE(Lacks(out, kSecretHex));
}

// ---- cloud users' passwords ----------------------------------------------------------------

std::string with_users(const std::string& users_block) {
    return secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc") + "  users:\n" + users_block;
}

TEST(CloudUserPasswords, AreParsedAndWeakOnesWarnWithoutShowingThem) {
    SourceFile source{"secrets.yaml",
                      with_users("    uat: Ur7Kp2Wm9Xq4Tz6Nb3Hs\n    ops: \"1234\"\n"), false};
    Diagnostics diag(source);
    auto secrets = parse_secrets(source, diag);
    ASSERT_TRUE(secrets) << diag.render();
    EXPECT_EQ(secrets->user_passwords.size(), 2u);
    EXPECT_EQ(secrets->user_passwords.at("uat"), "Ur7Kp2Wm9Xq4Tz6Nb3Hs");
    EXPECT_EQ(secrets->user_passwords.at("ops"), "1234");
    EXPECT_EQ(diag.error_count(), 0u);
    std::string out = diag.render();
    EXPECT_TRUE(Contains(out,
                         "secrets.yaml:8:10: warning: passwords.users.ops is weak (4 "
                         "characters, digits only)"));
    EXPECT_TRUE(Lacks(out, "1234"));
}

TEST(CloudUserPasswords, MustBePrintableAndUsersAMapping) {
    SourceFile source{"secrets.yaml", with_users("    uat: \"a b c\"\n"), false};
    Diagnostics diag(source);
    EXPECT_FALSE(parse_secrets(source, diag));
    EXPECT_TRUE(Contains(diag.render(),
                         "passwords.users.uat must be printable ASCII without "
                         "spaces"));
    SourceFile list{"secrets.yaml", with_users("    - uat\n"), false};
    Diagnostics list_diag(list);
    EXPECT_FALSE(parse_secrets(list, list_diag));
    EXPECT_TRUE(Contains(list_diag.render(),
                         "expected a mapping (key: value) for "
                         "'passwords.users', got a list"));
}

TEST(CloudUserPasswords, UsersMayBeLeftOut) {
    SourceFile source{"secrets.yaml", secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc"), false};
    Diagnostics diag(source);
    auto secrets = parse_secrets(source, diag);
    ASSERT_TRUE(secrets);
    EXPECT_TRUE(secrets->user_passwords.empty());
}

Site site_with_users(std::initializer_list<const char*> names) {
    Site site;
    site.file = "lab/site.yaml";
    int line = 90;
    for (const char* n : names) {
        CloudUser u;
        u.name = n;
        u.project = "uat";
        u.name_at = {line++, 14};
        site.cloud.users.push_back(u);
    }
    return site;
}

TEST(CloudUserPasswords, ACloudUserWithoutOneIsAnErrorNamingTheKey) {
    Secrets secrets;
    secrets.user_passwords["uat"] = "Ur7Kp2Wm9Xq4Tz6Nb3Hs";
    SourceFile source{"lab/secrets.yaml", "", false};
    Diagnostics diag(source);
    check_secrets_for_site(site_with_users({"uat", "ops"}), secrets, diag);
    EXPECT_EQ(diag.render(),
              "lab/secrets.yaml: error: no password for cloud user 'ops' (lab/site.yaml line 91): "
              "add passwords.users.ops to this file ('users:' under 'passwords:', then 'ops: "
              "PASSWORD' under it)\n");
    Diagnostics none(source);
    check_secrets_for_site(site_with_users({"uat"}), secrets, none);
    EXPECT_TRUE(none.all().empty());
}

TEST(CloudUserPasswords, GeneratedFileHasOnePerCloudUser) {
    std::string yaml = generate_secrets_yaml({"uat", "ops"});
    SourceFile source{"secrets.yaml", yaml, false};
    Diagnostics diag(source);
    auto secrets = parse_secrets(source, diag);
    ASSERT_TRUE(secrets) << diag.render();
    EXPECT_TRUE(diag.all().empty()) << diag.render();
    ASSERT_EQ(secrets->user_passwords.size(), 2u);
    for (const auto& [name, pw] : secrets->user_passwords) {
        EXPECT_EQ(pw.size(), 20u);
        EXPECT_EQ(pw.find_first_not_of(kAlphabet), std::string::npos);
    }
    EXPECT_NE(secrets->user_passwords.at("uat"), secrets->user_passwords.at("ops"));
    EXPECT_NE(secrets->user_passwords.at("uat"), secrets->keystone_admin_password);
    EXPECT_TRUE(Lacks(generate_secrets_yaml(), "users:"));
}

TEST_F(LoadSecretsTest, InitNoteSaysWhatToAddWithoutTouchingTheFile) {
    fs::path p = write(with_users("    uat: Ur7Kp2Wm9Xq4Tz6Nb3Hs\n"), 0600);
    EXPECT_EQ(missing_user_passwords_note(p, {"uat"}), "");
    EXPECT_EQ(missing_user_passwords_note(p, {}), "");
    EXPECT_EQ(missing_user_passwords_note(p, {"uat", "ops", "dev"}),
              p.string() +
                  " has no password for cloud users ops, dev (site.yaml cloud.users); add under "
                  "'passwords:'\n  users:\n    ops: A-PASSWORD-OF-YOUR-CHOICE\n"
                  "    dev: A-PASSWORD-OF-YOUR-CHOICE\n");
    fs::path plain = write(secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc"), 0600);
    EXPECT_TRUE(Contains(missing_user_passwords_note(plain, {"uat"}), "cloud user uat "));
    std::ifstream in(plain);
    std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(after, secrets_text("Zq8Wn3Kp5Rt7Yx2Mv4Bc"));
}

TEST_F(LoadSecretsTest, CloudUsersOfASiteFile) {
    EXPECT_TRUE(cloud_users_in(dir_ / "site.yaml").empty());  // none yet
    fs::copy_file(fs::path(AIRSTRAP_SOURCE_DIR) / "examples/lab3/site.yaml", dir_ / "site.yaml");
    EXPECT_EQ(cloud_users_in(dir_ / "site.yaml"), std::vector<std::string>{"uat"});
}

}  // namespace
}  // namespace airstrap::site
