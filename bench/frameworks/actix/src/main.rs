//! TechEmpower plaintext and JSON on actix-web, one worker.

use actix_web::http::header::{CONTENT_TYPE, HeaderValue, SERVER};
use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn plaintext() -> HttpResponse {
    let mut response = HttpResponse::Ok().body("Hello, World!");
    let headers = response.headers_mut();
    headers.insert(SERVER, HeaderValue::from_static("actix"));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

async fn json() -> HttpResponse {
    let message = Message {
        message: "Hello, World!",
    };
    // unwrap: a struct of one string always serialises.
    let body = serde_json::to_vec(&message).unwrap();
    let mut response = HttpResponse::Ok().body(body);
    let headers = response.headers_mut();
    headers.insert(SERVER, HeaderValue::from_static("actix"));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    HttpServer::new(|| {
        App::new()
            .route("/plaintext", web::get().to(plaintext))
            .route("/json", web::get().to(json))
    })
    .workers(1)
    .backlog(4096)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
