/** Placeholder replaced below. */
console.log("demo");
