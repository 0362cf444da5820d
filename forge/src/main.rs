fn main() {
    println!("forge {}", env!("CARGO_PKG_VERSION"));
}
