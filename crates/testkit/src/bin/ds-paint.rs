//! `ds-paint DISPLAY X Y W H SEED`: shows a deterministic picture window until killed.
fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    anyhow::ensure!(a.len() == 7, "usage: ds-paint DISPLAY X Y W H SEED");
    let w = deskshare_testkit::PictureWindow::show(
        &a[1],
        a[2].parse()?,
        a[3].parse()?,
        a[4].parse()?,
        a[5].parse()?,
        a[6].parse()?,
    )?;
    println!("ready");
    loop {
        w.hold(std::time::Duration::from_secs(3600));
    }
}
