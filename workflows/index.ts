export { verifyImages } from './verify-images.js';
