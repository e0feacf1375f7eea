#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
        std::printf("airstrap-firstboot %s\n", AIRSTRAP_VERSION);
        return 0;
    }
    std::fprintf(stderr, "airstrap-firstboot: not written yet\n");
    return 1;
}
