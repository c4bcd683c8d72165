//! `ds-grab DISPLAY OUT.png|OUT.rgb`: writes the display's root window (plain GetImage)
//! as PNG, or as raw RGB bytes for scripts; prints `WIDTHxHEIGHT`.
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(args.len() == 3, "usage: ds-grab DISPLAY OUT.png|OUT.rgb");
    let img = deskshare_testkit::grab(&args[1])?;
    let out = std::path::Path::new(&args[2]);
    if out.extension().is_some_and(|e| e == "rgb") {
        std::fs::write(out, &img.rgb)?;
    } else {
        img.write_png(out)?;
    }
    println!("{}x{}", img.width, img.height);
    Ok(())
}
