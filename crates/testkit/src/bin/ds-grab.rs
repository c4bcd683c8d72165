//! `ds-grab DISPLAY OUT.png`: writes the display's root window as PNG (plain GetImage).
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(args.len() == 3, "usage: ds-grab DISPLAY OUT.png");
    deskshare_testkit::grab(&args[1])?.write_png(std::path::Path::new(&args[2]))
}
