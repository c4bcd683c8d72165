//! `deskshare errors`: the error code table, from the code itself.

use deskshare_proto::ErrorCode;

pub fn print(markdown: bool) {
    if markdown {
        println!("| code | cause | remedy |\n|---|---|---|");
    }
    for code in ErrorCode::ALL {
        if markdown {
            println!("| `{}` | {} | {} |", code, code.cause(), code.remedy().replace('|', "\\|"));
        } else {
            println!("{code}\n  cause:  {}\n  remedy: {}", code.cause(), code.remedy());
        }
    }
}
