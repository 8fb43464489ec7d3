//! Trunk's entry point: mounts the page.

fn main() {
    cicd_access_web::start();
}
