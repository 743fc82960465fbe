use super::*;
use std::io::BufRead;

fn givens(s: &str) -> Vec<String> {
    parse_target(s, false)
        .unwrap()
        .into_iter()
        .map(|t| t.given)
        .collect()
}

#[test]
fn forms() {
    let one = |s: &str| parse_target(s, false).unwrap().remove(0);
    assert_eq!(one("127.0.0.1").port, 3389);
    assert_eq!(one("127.0.0.1").given, "127.0.0.1");
    assert_eq!(one("127.0.0.1:3390").port, 3390);
    assert_eq!(
        one("[::1]:3391"),
        Target {
            given: "[::1]:3391".into(),
            host: Host::Ip("::1".parse().unwrap()),
            port: 3391
        }
    );
    assert_eq!(one("::1").host, Host::Ip("::1".parse().unwrap()));
    assert_eq!(
        one("RDP.Example.com:3389").host,
        Host::Name("rdp.example.com".into())
    );
    assert!(parse_target("host:0", false).is_err());
    assert!(parse_target("host:99999", false).is_err());
    assert!(parse_target("bad host", false).is_err());
    assert!(parse_target("", false).is_err());
}

#[test]
fn not_an_address_is_never_a_name() {
    for bad in [
        "300.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "10.0.0.5-1",
        "10.0.0.1,,2",
        "10.0.0.+1",
    ] {
        assert!(
            matches!(
                parse_spec(bad, false),
                Err(TargetError::Address { .. } | TargetError::Syntax(_))
            ),
            "{bad}: {:?}",
            parse_spec(bad, false)
        );
    }
    // nmap: an open range runs to the end of the octet.
    assert_eq!(parse_spec("10.0.0.1-", false).unwrap().count(), 255);
    assert_eq!(parse_spec("10.0.0.-2", false).unwrap().count(), 3);
    assert_eq!(
        parse_spec("300.1.1.1", false).unwrap_err().to_string(),
        "target '300.1.1.1': not an IPv4 address or range: octet 300 is over 255"
    );
}

#[test]
fn nmap_octet_ranges_and_lists() {
    assert_eq!(
        givens("127.0.0.1-3"),
        ["127.0.0.1:3389", "127.0.0.2:3389", "127.0.0.3:3389"]
    );
    assert_eq!(givens("10.0.0.1,5"), ["10.0.0.1:3389", "10.0.0.5:3389"]);
    assert_eq!(
        givens("10.0.0-1.1-2:3390"),
        [
            "10.0.0.1:3390",
            "10.0.0.2:3390",
            "10.0.1.1:3390",
            "10.0.1.2:3390"
        ]
    );
    // Overlaps inside one octet are merged, members come in order.
    assert_eq!(
        givens("10.0.0.3,1-2,2"),
        ["10.0.0.1:3389", "10.0.0.2:3389", "10.0.0.3:3389"]
    );
    assert_eq!(parse_spec("10.0.0.*", false).unwrap().count(), 256);
    assert_eq!(parse_spec("10.0.0.-", false).unwrap().count(), 256);
    assert!(matches!(
        parse_spec("10.0.0-1.*", false),
        Err(TargetError::NeedsForce { count: 512, .. })
    ));
}

#[test]
fn ranges() {
    assert_eq!(
        givens("127.0.0.0/30"),
        [
            "127.0.0.0:3389",
            "127.0.0.1:3389",
            "127.0.0.2:3389",
            "127.0.0.3:3389"
        ]
    );
    assert_eq!(givens("127.0.0.5/30"), givens("127.0.0.4/30"));
    assert_eq!(
        parse_target("127.0.0.0/30:3390", false).unwrap()[0].port,
        3390
    );
    assert_eq!(
        parse_target("127.0.0.0:3390/30", false).unwrap()[3].given,
        "127.0.0.3:3390"
    );
    assert!(matches!(
        parse_target("127.0.0.0/23", false),
        Err(TargetError::NeedsForce { count: 512, .. })
    ));
    assert_eq!(parse_target("127.0.0.0/23", true).unwrap().len(), 512);
    assert!(matches!(
        parse_target("10.0.0.0/7", true),
        Err(TargetError::TooLarge { .. })
    ));
    // A /8 is allowed with --force and expanded lazily.
    let big = parse_spec("10.0.0.0/8", true).unwrap();
    assert_eq!(big.count(), 1 << 24);
    assert_eq!(big.targets().nth(65_537).unwrap().given, "10.1.0.1:3389");
    assert_eq!(parse_target("::1/128", false).unwrap().len(), 1);
    assert_eq!(
        givens("[2001:db8::/127]:3390"),
        ["[2001:db8::]:3390", "[2001:db8::1]:3390"]
    );
    assert_eq!(givens("2001:db8::/127:3390").len(), 2);
    assert!(parse_spec("2001:db8::/64", true).is_err());
}

#[test]
fn exclusions() {
    let mut ex = Exclusions::default();
    ex.add_list("10.0.0.1,5,10.0.1.0/24,host.example").unwrap();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(ex.excludes_ip(ip("10.0.0.1")));
    assert!(ex.excludes_ip(ip("10.0.0.5")));
    assert!(!ex.excludes_ip(ip("10.0.0.2")));
    assert!(ex.excludes_ip(ip("10.0.1.77")));
    assert!(ex.excludes(&parse_target("HOST.example:3390", false).unwrap()[0]));
    assert!(ex.add_list("300.0.0.1").is_err());
    let mut f = Exclusions::default();
    f.add_file("ex.txt", "# none\n10.0.0.0/30 10.0.0.9\n\n")
        .unwrap();
    assert!(f.excludes_ip(ip("10.0.0.9")) && f.excludes_ip(ip("10.0.0.3")));
    let err = f
        .add_file("ex.txt", "\n300.1.1.1\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("ex.txt: line 2: target '300.1.1.1'"),
        "{err}"
    );
}

#[test]
fn shards_split_without_overlap() {
    assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err());
    assert!(Shard::parse("1/0").is_err() && Shard::parse("x").is_err());
    let all: Vec<String> = givens("10.0.0.0/29");
    let mut seen = Vec::new();
    for k in 1..=3 {
        let spec = parse_spec("10.0.0.0/29", false).unwrap();
        let shard = Shard::parse(&format!("{k}/3")).unwrap();
        let stream = TargetStream::new(vec![spec], None, false).with_shard(Some(shard));
        assert_eq!(
            stream.known_len(),
            Some([3, 3, 2][usize::try_from(k - 1).unwrap()])
        );
        let got: Vec<String> = stream.map(|t| t.unwrap().given).collect();
        assert_eq!(got[0], all[usize::try_from(k - 1).unwrap()]);
        seen.extend(got);
    }
    seen.sort();
    let mut want = all.clone();
    want.sort();
    assert_eq!(seen, want);
}

#[test]
fn stream_reads_lines_lazily_and_reports_bad_lines() {
    let input = "# lab\n127.0.0.1\n\n300.1.1.1\n127.0.0.2-3:3390 # two\n";
    let mut long = "1".repeat(MAX_LINE + 10);
    long.push_str("\n127.0.0.9\n");
    let text = format!("{input}{long}");
    let reader: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(text.into_bytes()));
    let mut ex = Exclusions::default();
    ex.add("127.0.0.2").unwrap();
    let stream = TargetStream::new(
        vec![parse_spec("127.0.0.100", false).unwrap()],
        Some((reader, "-".to_string())),
        false,
    )
    .with_exclusions(ex);
    assert_eq!(stream.known_len(), None);
    let got: Vec<String> = stream
        .map(|r| match r {
            Ok(t) => t.given,
            Err(e) => format!("error {e}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            "127.0.0.100",
            "127.0.0.1",
            "error -: line 4: target '300.1.1.1': not an IPv4 address or range: octet 300 is over 255",
            "127.0.0.3:3390",
            "error -: line 6: longer than 4096 bytes",
            "127.0.0.9",
        ]
    );
}

#[test]
fn file() {
    let t = parse_targets_file("# lab\n127.0.0.1\n\n127.0.0.2:3390 # second\n", false).unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(
        parse_targets_file("ok.example\n%%%\n", false)
            .unwrap_err()
            .0,
        2
    );
}
