// Keeps the support library non-empty until helpers land.
namespace crowd::test {}
