use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("read stdin");
    for (word, n) in demo_core::word_counts(&input).into_iter().take(10) {
        println!("{n:>6} {word}");
    }
}
