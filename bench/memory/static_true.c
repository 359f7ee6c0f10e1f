// static_true: an empty program linked -static, run by bench/memory/run.sh through rusage_exec
// as the floor of a static process (what a static plugin cannot go below).
int main(void) {
    return 0;
}
