// Output validator for any-pair (Kattis interface).
//   checker input_file answer_file feedback_dir [flags...] < contestant_output
// Accepts (exit 42) any pair "i j" with 1 <= i < j <= n and a_i + a_j = T, or "-1" when the
// reference answer says no pair exists. Otherwise rejects (exit 43) and explains why in
// feedback_dir/judgemessage.txt. Judge-side problems (bad arguments, unreadable files) exit 1.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::string feedback_dir;

void write_message(const std::string& msg) {
    if (feedback_dir.empty()) return;
    std::ofstream f(feedback_dir + "/judgemessage.txt");
    f << msg << "\n";
}

[[noreturn]] void accept(const std::string& msg) {
    write_message(msg);
    std::exit(42);
}

[[noreturn]] void reject(const std::string& msg) {
    write_message(msg);
    std::exit(43);
}

[[noreturn]] void judge_error(const std::string& msg) {
    std::fprintf(stderr, "judge error: %s\n", msg.c_str());
    write_message("judge error: " + msg);
    std::exit(1);
}

// Strict integer: optional '-', then 1 to 18 digits. Returns false for anything else.
bool parse_int(const std::string& s, long long& out) {
    size_t pos = 0;
    bool neg = false;
    if (pos < s.size() && s[pos] == '-') {
        neg = true;
        pos++;
    }
    size_t digits = s.size() - pos;
    if (digits == 0 || digits > 18) return false;
    long long v = 0;
    for (; pos < s.size(); pos++) {
        if (s[pos] < '0' || s[pos] > '9') return false;
        v = v * 10 + (s[pos] - '0');
    }
    out = neg ? -v : v;
    return true;
}

// Shows at most 20 characters of a token, with unprintable bytes escaped.
std::string show(const std::string& s) {
    std::string r;
    for (size_t i = 0; i < s.size() && i < 20; i++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 32 && c < 127) {
            r += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            r += buf;
        }
    }
    if (s.size() > 20) r += "...";
    return "\"" + r + "\"";
}

bool is_space(int c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v'; }

// Reads up to max_tokens whitespace-separated tokens from stdin (each kept to at most 64 bytes,
// longer ones are marked by their length). Sets extra when more tokens follow.
std::vector<std::string> read_tokens(size_t max_tokens, bool& extra, std::vector<size_t>& lengths) {
    std::vector<std::string> tokens;
    extra = false;
    std::string cur;
    size_t cur_len = 0;
    bool in_token = false;
    static char buf[1 << 16];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
        for (size_t i = 0; i < got; i++) {
            int c = static_cast<unsigned char>(buf[i]);
            if (is_space(c)) {
                if (in_token) {
                    tokens.push_back(cur);
                    lengths.push_back(cur_len);
                    cur.clear();
                    cur_len = 0;
                    in_token = false;
                }
            } else {
                if (!in_token && tokens.size() == max_tokens) {
                    extra = true;
                    return tokens;
                }
                in_token = true;
                if (cur.size() < 64) cur += static_cast<char>(c);
                cur_len++;
            }
        }
    }
    if (in_token) {
        tokens.push_back(cur);
        lengths.push_back(cur_len);
    }
    return tokens;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) judge_error("usage: checker input_file answer_file feedback_dir [flags] < output");
    feedback_dir = argv[3];

    std::ifstream in(argv[1]);
    long long n = 0, target = 0;
    if (!(in >> n >> target) || n < 2) judge_error("cannot read n and T from the input file");
    std::vector<long long> a(static_cast<size_t>(n) + 1);
    for (long long i = 1; i <= n; i++) {
        if (!(in >> a[i])) judge_error("cannot read the array from the input file");
    }

    std::ifstream ans(argv[2]);
    long long ref_first = 0;
    if (!(ans >> ref_first)) judge_error("cannot read the answer file");
    const bool ref_has_pair = ref_first != -1;

    bool extra = false;
    std::vector<size_t> lengths;
    std::vector<std::string> tok = read_tokens(2, extra, lengths);
    if (tok.empty()) reject("empty output: expected two indices or -1");
    if (extra) reject("too many tokens: expected two indices or -1");

    std::vector<long long> val(tok.size());
    for (size_t k = 0; k < tok.size(); k++) {
        if (lengths[k] > 64 || !parse_int(tok[k], val[k])) {
            reject("token " + std::to_string(k + 1) + " is not a valid integer: " + show(tok[k]));
        }
    }

    if (tok.size() == 1) {
        if (val[0] != -1) {
            reject("a single number must be -1, got " + std::to_string(val[0]));
        }
        if (ref_has_pair) reject("answered -1, but a valid pair exists");
        accept("correct: no pair exists");
    }

    long long i = val[0], j = val[1];
    if (i < 1 || i > n || j < 1 || j > n) {
        reject("index out of range [1, " + std::to_string(n) + "]: " + std::to_string(i) + " " +
               std::to_string(j));
    }
    if (i >= j) reject("indices must satisfy i < j, got " + std::to_string(i) + " " + std::to_string(j));
    if (a[i] + a[j] != target) {
        reject("a_" + std::to_string(i) + " + a_" + std::to_string(j) + " = " +
               std::to_string(a[i] + a[j]) + ", not " + std::to_string(target));
    }
    if (!ref_has_pair) {
        // The pair is verifiably correct, so the reference answer must be wrong.
        std::fprintf(stderr, "warning: valid pair found although the answer file says -1\n");
    }
    accept("correct pair");
}
