fn main() {
    println!("fover: the simulation harness is not built yet");
}
