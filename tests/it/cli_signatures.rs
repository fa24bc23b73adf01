//! The signature-debugging commands reproduce every fixed vector, name the step a buggy
//! signer got wrong, exit non-zero on a mismatch, and never print the access key.

use crate::support::{kgsim, temp_file, vector, vectors};

#[test]
fn sign_v1_reproduces_the_auth_token_vector() {
    let params = vectors()["v1_auth_token"]["params"]
        .as_object()
        .unwrap()
        .clone();
    let mut args = vec!["sign".to_owned(), "v1".to_owned()];
    for (name, value) in &params {
        args.push("--param".into());
        args.push(format!("{name}={}", value.as_str().unwrap()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = kgsim(&args, Some(&vector("v1_auth_token", "access_key")), None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.line("string-to-sign"),
        vector("v1_auth_token", "string_to_sign")
    );
    assert_eq!(run.line("hmac-key"), "[redacted]20200727073711903");
    assert_eq!(run.line("authToken"), vector("v1_auth_token", "auth_token"));
}

#[test]
fn sign_body_sign_reproduces_the_vector_from_a_file_and_stdin() {
    let key = vector("v1_body_sign", "access_key");
    let body = vector("v1_body_sign", "body");
    let file = temp_file("body-sign.json", body.as_bytes());
    let run = kgsim(
        &["sign", "body-sign", "--body", file.to_str().unwrap()],
        Some(&key),
        None,
    );
    assert_eq!(
        run.line("Body-Sign"),
        vector("v1_body_sign", "header_value")
    );
    let run = kgsim(
        &["sign", "body-sign", "--body", "-"],
        Some(&key),
        Some(body.as_bytes()),
    );
    assert_eq!(run.line("signature"), vector("v1_body_sign", "signature"));
}

#[test]
fn sign_v2_kit_and_usage_push_reproduce_their_vectors() {
    let group = "v2_basic_signature";
    let body = temp_file("v2.json", vector(group, "body").as_bytes());
    let run = kgsim(
        &[
            "sign",
            "v2",
            "--body",
            body.to_str().unwrap(),
            "--timestamp",
            &vector(group, "timestamp"),
            "--nonce",
            &vector(group, "nonce"),
        ],
        Some(&vector(group, "access_key")),
        None,
    );
    assert_eq!(run.line("canonical-body"), vector(group, "body"));
    assert_eq!(run.line("inner"), vector(group, "inner"));
    assert_eq!(run.line("signature"), vector(group, "signature"));

    let group = "v2_kit_signature";
    let body = temp_file("kit.json", vector(group, "body").as_bytes());
    let run = kgsim(
        &[
            "sign",
            "kit",
            "--body",
            body.to_str().unwrap(),
            "--timestamp",
            &vector(group, "x_timestamp"),
            "--nonce",
            &vector(group, "x_nonce"),
        ],
        Some(&vector(group, "access_key")),
        None,
    );
    // Uppercase, as every published Kit example shows; the vector is written in lowercase.
    assert_eq!(
        run.line("x-sign"),
        vector(group, "x_sign").to_ascii_uppercase()
    );

    let group = "usage_push_signature";
    let body = temp_file("push.json", vector(group, "body").as_bytes());
    let run = kgsim(
        &[
            "sign",
            "usage-push",
            "--body",
            body.to_str().unwrap(),
            "--ts",
            &vector(group, "ts"),
            "--nonce",
            &vector(group, "nonce"),
        ],
        Some(&vector(group, "access_key")),
        None,
    );
    assert_eq!(run.line("signature"), vector(group, "signature"));
}

#[test]
fn sign_apigw_reproduces_the_published_vector() {
    let group = "apigw_sdk_hmac_sha256";
    let headers = vectors()[group]["headers"].as_object().unwrap().clone();
    let mut args: Vec<String> = [
        "sign",
        "apigw",
        "--method",
        "POST",
        "--url",
        &vector(group, "url"),
        "--app-key",
        &vector(group, "app_key"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for (name, value) in &headers {
        args.push("--header".into());
        args.push(format!("{name}: {}", value.as_str().unwrap()));
    }
    let secret = temp_file(
        "apigw-secret",
        format!("{}\n", vector(group, "app_secret")).as_bytes(),
    );
    args.push("--secret-file".into());
    args.push(secret.to_str().unwrap().to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = kgsim(&args, None, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.line("signed-headers"), vector(group, "signed_headers"));
    assert_eq!(run.line("signature"), vector(group, "signature"));
}

#[test]
fn crypt_reproduces_the_encryption_vectors() {
    let group = "v1_field_encryption";
    let key = vector(group, "access_key");
    let iv = vector(group, "iv");
    let plain = vector(group, "plaintext");
    for (ty, field) in [
        ("1", "encrypt_type_1_aes256"),
        ("2", "encrypt_type_2_aes128"),
    ] {
        let run = kgsim(
            &[
                "crypt",
                "encrypt",
                "--encrypt-type",
                ty,
                "--iv",
                &iv,
                &plain,
            ],
            Some(&key),
            None,
        );
        assert_eq!(run.line("ciphertext"), vector(group, field));
        let run = kgsim(
            &[
                "crypt",
                "decrypt",
                "--encrypt-type",
                ty,
                &vector(group, field),
            ],
            Some(&key),
            None,
        );
        assert_eq!(run.line("plaintext"), plain);
    }
    let run = kgsim(
        &["crypt", "derive-key", "--encrypt-type", "1"],
        Some(&key),
        None,
    );
    assert_eq!(run.line("aes-key"), vector(group, "aes256_key_hex"));
    let run = kgsim(
        &["crypt", "derive-key", "--encrypt-type", "2"],
        Some(&key),
        None,
    );
    assert_eq!(run.line("aes-key"), vector(group, "aes128_key_hex"));
    let run = kgsim(&["crypt", "derive-key"], Some("k"), None);
    assert_eq!(
        run.line("aes-key"),
        vectors()[group]["extra_key_derivation"]["aes256_key_hex"]
            .as_str()
            .unwrap()
    );
}

#[test]
fn decrypting_with_the_wrong_type_exits_1() {
    let group = "v1_field_encryption";
    let run = kgsim(
        &[
            "crypt",
            "decrypt",
            "--encrypt-type",
            "2",
            &vector(group, "encrypt_type_1_aes256"),
        ],
        Some(&vector(group, "access_key")),
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.line("error").contains("padding"), "{}", run.stdout);
}

#[test]
fn verify_v1_accepts_a_signed_url_and_names_the_step_that_differs() {
    let key = vector("v1_auth_token", "access_key");
    let signed = kgsim(
        &[
            "sign",
            "v1",
            "--param",
            "activity=expireInstance",
            "--param",
            "instanceId=a+b/c",
            "--param",
            "timeStamp=20200727073711903",
        ],
        Some(&key),
        None,
    );
    let url = format!("https://isv.example/saasproduce?{}", signed.line("query"));
    let run = kgsim(&["verify", "v1", "--url", &url], Some(&key), None);
    assert_eq!((run.code, run.line("verdict")), (0, "valid".to_owned()));

    // Sign the still-encoded value, as a merchant that forgot to URL-decode would compute it.
    let wrong = kgsim(
        &[
            "sign",
            "v1",
            "--param",
            "activity=expireInstance",
            "--param",
            "instanceId=a%2Bb%2Fc",
            "--param",
            "timeStamp=20200727073711903",
        ],
        Some(&key),
        None,
    );
    let query = signed.line("query");
    let (unsigned, _) = query.rsplit_once("&authToken=").unwrap();
    let forged = format!(
        "{unsigned}&authToken={}",
        wrong.line("query").rsplit_once("&authToken=").unwrap().1
    );
    let run = kgsim(&["verify", "v1", "--url", &forged], Some(&key), None);
    assert_eq!(run.code, 1);
    assert_eq!(run.line("verdict"), "mismatch");
    assert!(
        run.line("cause")
            .starts_with("values were not URL-decoded before signing"),
        "{}",
        run.stdout
    );
}

#[test]
fn verify_body_sign_names_reserialisation_and_header_case() {
    let key = vector("v1_body_sign", "access_key");
    let pretty = b"{\n  \"resultCode\": \"000000\",\n  \"resultMsg\": \"success.\",\n  \"instanceId\": \"61e834ba-7b97-4418-b8f7-e5345137278c\"\n}";
    let body = temp_file("pretty.json", pretty);
    let header = format!("Body-Sign: {}", vector("v1_body_sign", "header_value"));
    let run = kgsim(
        &[
            "verify",
            "body-sign",
            "--body",
            body.to_str().unwrap(),
            "--header",
            &header,
        ],
        Some(&key),
        None,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.line("cause")
            .starts_with("body re-serialised after signing"),
        "{}",
        run.stdout
    );

    let exact = temp_file("exact.json", vector("v1_body_sign", "body").as_bytes());
    let run = kgsim(
        &[
            "verify",
            "body-sign",
            "--body",
            exact.to_str().unwrap(),
            "--header",
            &header,
        ],
        Some(&key),
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let lower = header.replace("Body-Sign:", "body-sign:");
    let run = kgsim(
        &[
            "verify",
            "body-sign",
            "--body",
            exact.to_str().unwrap(),
            "--header",
            &lower,
        ],
        Some(&key),
        None,
    );
    assert_eq!((run.code, run.line("verdict")), (1, "malformed".to_owned()));
    let unquoted = header.replace("\"HMAC-SHA256\"", "HMAC-SHA256");
    let run = kgsim(
        &[
            "verify",
            "body-sign",
            "--body",
            exact.to_str().unwrap(),
            "--header",
            &unquoted,
        ],
        Some(&key),
        None,
    );
    assert_eq!((run.code, run.line("verdict")), (1, "malformed".to_owned()));
}

#[test]
fn verify_v2_checks_signature_and_freshness() {
    let group = "v2_basic_signature";
    let key = vector(group, "access_key");
    let body = temp_file("v2-verify.json", vector(group, "body").as_bytes());
    let query = format!(
        "signature={}&timestamp={}&nonce={}",
        vector(group, "signature").to_lowercase(),
        vector(group, "timestamp"),
        vector(group, "nonce")
    );
    let run = kgsim(
        &[
            "verify",
            "v2",
            "--query",
            &query,
            "--body",
            body.to_str().unwrap(),
        ],
        Some(&key),
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let late = (vector(group, "timestamp").parse::<i64>().unwrap() + 61_000).to_string();
    let run = kgsim(
        &[
            "verify",
            "v2",
            "--query",
            &query,
            "--body",
            body.to_str().unwrap(),
            "--now",
            &late,
        ],
        Some(&key),
        None,
    );
    assert_eq!(run.code, 1);
    assert!(run.line("freshness").starts_with("stale"));
    let tampered = temp_file(
        "v2-tampered.json",
        vector(group, "body").replace("\"1\"", "\"0\"").as_bytes(),
    );
    let run = kgsim(
        &[
            "verify",
            "v2",
            "--query",
            &query,
            "--body",
            tampered.to_str().unwrap(),
        ],
        Some(&key),
        None,
    );
    assert_eq!((run.code, run.line("verdict")), (1, "mismatch".to_owned()));
}

#[test]
fn verify_kit_exits_1_on_a_wrong_sign() {
    let group = "v2_kit_signature";
    let body = temp_file("kit-verify.json", vector(group, "body").as_bytes());
    let args = |sign: &str| {
        kgsim(
            &[
                "verify",
                "kit",
                "--body",
                body.to_str().unwrap(),
                "--x-sign",
                sign,
                "--x-timestamp",
                &vector(group, "x_timestamp"),
                "--x-nonce",
                &vector(group, "x_nonce"),
            ],
            Some(&vector(group, "access_key")),
            None,
        )
    };
    assert_eq!(args(&vector(group, "x_sign")).code, 0);
    assert_eq!(
        args(&vector(group, "x_sign").to_ascii_uppercase()).code,
        0,
        "either case verifies"
    );
    assert_eq!(args(&vector(group, "x_sign").replace('5', "6")).code, 1);
}

/// Every command, run with a distinctive key, in success and in failure, never prints it.
#[test]
fn no_command_prints_the_access_key() {
    let key = "kgsim-SECRET-do-not-print-7f3a";
    let body = temp_file(
        "secret-body.json",
        br#"{"activity":"newInstance","orderId":"CS1"}"#,
    );
    let body = body.to_str().unwrap();
    let runs = [
        kgsim(
            &[
                "sign",
                "v1",
                "--param",
                "activity=newInstance",
                "--param",
                "timeStamp=20200727073711903",
            ],
            Some(key),
            None,
        ),
        kgsim(
            &["sign", "v1", "--param", "activity=newInstance"],
            Some(key),
            None,
        ),
        kgsim(&["sign", "body-sign", "--body", body], Some(key), None),
        kgsim(
            &[
                "sign",
                "v2",
                "--body",
                body,
                "--timestamp",
                "1",
                "--nonce",
                "n",
            ],
            Some(key),
            None,
        ),
        kgsim(
            &[
                "sign",
                "kit",
                "--body",
                body,
                "--timestamp",
                "1",
                "--nonce",
                "n",
            ],
            Some(key),
            None,
        ),
        kgsim(
            &[
                "sign",
                "usage-push",
                "--body",
                body,
                "--timestamp",
                "1",
                "--nonce",
                "n",
            ],
            Some(key),
            None,
        ),
        kgsim(
            &[
                "verify",
                "v1",
                "--url",
                "activity=x&timeStamp=1&authToken=abc",
            ],
            Some(key),
            None,
        ),
        kgsim(
            &[
                "verify",
                "v2",
                "--query",
                "signature=a&timestamp=1&nonce=n",
                "--body",
                body,
            ],
            Some(key),
            None,
        ),
        kgsim(
            &[
                "verify",
                "body-sign",
                "--body",
                body,
                "--header",
                "sign_type=\"HMAC-SHA256\", signature=\"x\"",
            ],
            Some(key),
            None,
        ),
        kgsim(&["crypt", "encrypt", "secret value"], Some(key), None),
        kgsim(
            &[
                "crypt",
                "decrypt",
                "AbCdEf0123456789vI5bl8PPCbWUPSFM8ZYyHw==",
            ],
            Some(key),
            None,
        ),
    ];
    for run in runs {
        assert!(
            !run.stdout.contains(key) && !run.stderr.contains(key),
            "leaked:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn a_missing_key_is_a_usage_error() {
    let run = kgsim(&["sign", "v1", "--param", "timeStamp=1"], None, None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("KGSIM_ACCESS_KEY"), "{}", run.stderr);
}

#[test]
fn crypt_rsa_oaep_decrypts_openssl_vectors_and_names_their_digest() {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../../fixtures/kit/oaep-vectors.json")).unwrap();
    let private = "fixtures/kit/test-merchant-private.pem";
    for digest in ["sha1", "sha256-mgf1-sha1", "sha256"] {
        let ciphertext = vectors["ciphertexts"][digest].as_str().unwrap();
        let run = kgsim(
            &[
                "crypt",
                "rsa-oaep",
                "decrypt",
                "--private-key",
                private,
                ciphertext,
            ],
            None,
            None,
        );
        assert_eq!(run.code, 0, "{digest}: {}", run.stderr);
        assert_eq!(run.line("digest"), digest);
        assert_eq!(run.line("plaintext"), "kgsim-client-secret-0001");
    }
    let pkcs1 = vectors["ciphertexts"]["pkcs1v15"].as_str().unwrap();
    let run = kgsim(
        &[
            "crypt",
            "rsa-oaep",
            "decrypt",
            "--private-key",
            private,
            pkcs1,
        ],
        None,
        None,
    );
    assert_eq!(run.code, 1, "PKCS#1 v1.5 is not OAEP");
    assert!(run.stdout.contains("no OAEP reading"), "{}", run.stdout);
}

#[test]
fn crypt_rsa_oaep_round_trips_and_refuses_short_keys() {
    let encrypted = kgsim(
        &[
            "crypt",
            "rsa-oaep",
            "encrypt",
            "--public-key",
            "fixtures/kit/test-merchant-public.pem",
            "--digest",
            "sha1",
            "s3cret",
        ],
        None,
        None,
    );
    assert_eq!(encrypted.code, 0, "{}", encrypted.stderr);
    let ciphertext = encrypted.line("ciphertext");
    let decrypted = kgsim(
        &[
            "crypt",
            "rsa-oaep",
            "decrypt",
            "--private-key",
            "fixtures/kit/test-merchant-private.pem",
            &ciphertext,
        ],
        None,
        None,
    );
    assert_eq!(decrypted.line("digest"), "sha1");
    assert_eq!(decrypted.line("plaintext"), "s3cret");
    let short = kgsim(
        &[
            "crypt",
            "rsa-oaep",
            "encrypt",
            "--public-key",
            "fixtures/kit/test-2048-public.pem",
            "x",
        ],
        None,
        None,
    );
    assert_eq!(short.code, 2);
    assert!(short.stderr.contains("at least 3072"), "{}", short.stderr);
}
